// Azure Monitor alerts on the app's telemetry (docs/operations.md), each wired to one action group that
// emails the on-call address. The queries read what shared/telemetry.py exports to Application
// Insights: the liveness_guard.* metrics (customMetrics), log lines (traces, customDimensions.event)
// and azure-core dependency spans (dependencies). docs/operations.md says what to do for each.

@description('Resource id of the Application Insights component the app reports to.')
param appInsightsId string

param location string
param tags object = {}

@description('Who is emailed when an alert fires.')
param alertEmail string

@description('How long a flag may wait for a reviewer (seconds): REVIEW_SLA_SECONDS.')
param reviewSlaSeconds int

@description('Minutes between retention sweeps (RETENTION_SCHEDULE): two missed in a row alert.')
param sweepIntervalMinutes int = 60

@description('Per cent of Face or storage calls that fail (throttled, timed out or 5xx) before an alert fires.')
param failureRatePercent int = 10

@description('Fewest calls in the window for the failure rate to count (a handful of calls is noise).')
param minimumCalls int = 20

var sweepWindow = 'PT${2 * sweepIntervalMinutes}M'

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: 'ag-liveness-guard'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'lg-oncall'
    enabled: true
    emailReceivers: [
      {
        name: 'on-call'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

resource poisonNotifications 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = {
  name: 'alert-poison-notifications'
  location: location
  tags: tags
  properties: {
    displayName: 'A notification email landed in the poison queue'
    description: 'A notification could not be emailed after every try (or was malformed). See docs/operations.md.'
    severity: 1
    enabled: true
    scopes: [appInsightsId]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT1H'
    criteria: {
      allOf: [
        {
          query: 'union (customMetrics | where name == "liveness_guard.queue.poison" and tostring(customDimensions.queue) == "notifications" and value > 0), (traces | where tostring(customDimensions.event) in ("email.failed", "email.rejected"))'
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 }
        }
      ]
    }
    autoMitigate: true
    actions: { actionGroups: [actionGroup.id] }
  }
}

resource poisonWebhooks 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = {
  name: 'alert-poison-webhooks'
  location: location
  tags: tags
  properties: {
    displayName: 'A webhook delivery landed in the poison queue'
    description: 'A customer endpoint refused an event for WEBHOOK_RETRY_SECONDS (or the message was malformed). See docs/operations.md.'
    severity: 2
    enabled: true
    scopes: [appInsightsId]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT1H'
    criteria: {
      allOf: [
        {
          query: 'union (customMetrics | where name == "liveness_guard.queue.poison" and tostring(customDimensions.queue) == "webhooks" and value > 0), (traces | where tostring(customDimensions.event) in ("webhook.failed", "webhook.malformed"))'
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 }
        }
      ]
    }
    autoMitigate: true
    actions: { actionGroups: [actionGroup.id] }
  }
}

resource sweepMissed 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = {
  name: 'alert-retention-sweep'
  location: location
  tags: tags
  properties: {
    displayName: 'The retention sweep failed or has not run for two schedules'
    description: 'Data may be kept past the published retention. See docs/operations.md.'
    severity: 1
    enabled: true
    scopes: [appInsightsId]
    evaluationFrequency: 'PT15M'
    windowSize: sweepWindow
    criteria: {
      allOf: [
        {
          query: 'customMetrics | where name == "liveness_guard.sweep.runs" | summarize ok = sumif(value, tostring(customDimensions.outcome) == "ok"), failed = sumif(value, tostring(customDimensions.outcome) == "failed") | union (print ok = 0.0, failed = 0.0) | summarize ok = sum(ok), failed = sum(failed) | where ok == 0 or failed > 0'
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 }
        }
      ]
    }
    autoMitigate: true
    actions: { actionGroups: [actionGroup.id] }
  }
}

resource reviewOverdue 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = {
  name: 'alert-review-overdue'
  location: location
  tags: tags
  properties: {
    displayName: 'A flagged GUID has waited longer than the review SLA'
    description: 'An end user is blocked without a human decision past REVIEW_SLA_SECONDS. See docs/operations.md.'
    severity: 2
    enabled: true
    scopes: [appInsightsId]
    evaluationFrequency: 'PT15M'
    windowSize: sweepWindow
    criteria: {
      allOf: [
        {
          query: 'customMetrics | where name == "liveness_guard.reviews.oldest_pending" | summarize oldest = max(value) | where oldest > ${reviewSlaSeconds}'
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 }
        }
      ]
    }
    autoMitigate: true
    actions: { actionGroups: [actionGroup.id] }
  }
}

resource dependencyFailures 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = {
  name: 'alert-dependency-failures'
  location: location
  tags: tags
  properties: {
    displayName: 'Face or storage calls are failing'
    description: 'More than ${failureRatePercent}% of Face or storage calls were throttled, timed out or failed (5xx); clients are getting 503s. See docs/operations.md.'
    severity: 1
    enabled: true
    scopes: [appInsightsId]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: 'dependencies | extend service = case(tostring(customDimensions["user_agent.original"]) has "data-tables" or tostring(customDimensions["user_agent.original"]) has "storage-queue", "storage", data has "/face/", "face", "other") | where service in ("face", "storage") | summarize total = count(), failed = countif(resultCode in ("", "0", "408", "429") or toint(resultCode) >= 500) by service | where total >= ${minimumCalls} and 100.0 * failed / total > ${failureRatePercent}'
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          dimensions: []
          failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 }
        }
      ]
    }
    autoMitigate: true
    actions: { actionGroups: [actionGroup.id] }
  }
}

output actionGroupId string = actionGroup.id
