// Liveness Guard: everything the function app needs, reached by a user-assigned managed identity.
// Kept in the Bicep subset pycep-parser reads (tests/infra): no multi-line ternaries, no user-defined types.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; used to derive a unique token for resource names.')
param environmentName string

@minLength(1)
@description('Region for all resources (must offer Flex Consumption and Face).')
@metadata({ azd: { type: 'location' } })
param location string

@description('Object id of a person to grant data access for debugging (optional).')
param principalId string = ''

@description('Client id of the Entra app registration reviewers sign in with (App Service Authentication). Empty: no sign-in, EASY_AUTH_ENABLED=false.')
param authClientId string = ''

@description('Tenant of that app registration.')
param authTenantId string = tenant().tenantId

@description('Who customers contact to respond to an abuse notification.')
param supportContact string = ''

@secure()
@minLength(32)
@description('Secret that seals Face auth tokens at rest and keys audit pseudonyms; kept in Key Vault. Keep it stable.')
param sessionSealingKey string

@description('Face resource SKU.')
param faceSkuName string = 'S0'

@description('Face liveness API version: v1.2 (GA) or v1.3-preview.1 (the service\'s own abuse monitoring).')
@allowed([
  'v1.2'
  'v1.3-preview.1'
])
param faceApiVersion string = 'v1.2'

@description('Where ACS keeps email data.')
param emailDataLocation string = 'United States'

@description('Who is emailed when an operations alert fires (poison messages, sweep, review SLA, Face or storage failures).')
param alertEmail string

@description('How long a flag may wait for a reviewer (seconds); the oldest pending review alerts past it.')
@minValue(60)
param reviewSlaSeconds int = 86400

@description('Network isolation: a virtual network, the app integrated with it, and storage, Face and Key Vault reachable only through private endpoints (docs/deploy.md).')
param vnetEnabled bool = false

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var functionAppName = 'func-lg-${resourceToken}'
var deploymentContainerName = 'app-package-${take(resourceToken, 12)}'
var tablePrefix = 'lg'
var notificationQueue = 'abuse-notifications'
var webhookQueue = 'webhook-deliveries'
var easyAuthEnabled = !empty(authClientId)
var publicNetworkAccess = vnetEnabled ? 'Disabled' : 'Enabled'
var storageOpen = {
  defaultAction: 'Allow'
  bypass: 'AzureServices'
}
var storagePrivate = {
  defaultAction: 'Deny'
  bypass: 'None'
}
var storageNetworkAcls = vnetEnabled ? storagePrivate : storageOpen
var storageServices = [
  'blob'
  'queue'
  'table'
]
var privateStorageServices = vnetEnabled ? storageServices : [] // a loop cannot carry a condition in pycep's subset

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'br/public:avm/res/managed-identity/user-assigned-identity:0.4.1' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-lg-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'br/public:avm/res/storage/storage-account:0.8.3' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'stlg${resourceToken}'
    location: location
    tags: tags
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    dnsEndpointType: 'Standard'
    publicNetworkAccess: publicNetworkAccess
    networkAcls: storageNetworkAcls
    blobServices: {
      containers: [
        { name: deploymentContainerName }
      ]
    }
    tableServices: {
      tables: [
        { name: '${tablePrefix}customers' }
        { name: '${tablePrefix}subjects' }
        { name: '${tablePrefix}reviewindex' }
        { name: '${tablePrefix}notifications' }
        { name: '${tablePrefix}feedback' }
        { name: '${tablePrefix}feedbackrefs' }
        { name: '${tablePrefix}ratelimits' }
        { name: '${tablePrefix}facesessions' }
        { name: '${tablePrefix}audit' }
        { name: '${tablePrefix}expiry' }
        { name: '${tablePrefix}reviewstats' }
        { name: '${tablePrefix}opinions' }
      ]
    }
    queueServices: {
      queues: [
        { name: notificationQueue }
        { name: '${notificationQueue}-poison' }
        { name: webhookQueue }
        { name: '${webhookQueue}-poison' }
      ]
    }
  }
}

module logAnalytics 'br/public:avm/res/operational-insights/workspace:0.7.0' = {
  name: 'logAnalytics'
  scope: rg
  params: {
    name: 'log-lg-${resourceToken}'
    location: location
    tags: tags
    dataRetention: 30
  }
}

module monitoring 'br/public:avm/res/insights/component:0.4.1' = {
  name: 'monitoring'
  scope: rg
  params: {
    name: 'appi-lg-${resourceToken}'
    location: location
    tags: tags
    workspaceResourceId: logAnalytics.outputs.resourceId
    disableLocalAuth: true
  }
}

module plan 'br/public:avm/res/web/serverfarm:0.1.1' = {
  name: 'plan'
  scope: rg
  params: {
    name: 'plan-lg-${resourceToken}'
    location: location
    tags: tags
    sku: {
      name: 'FC1'
      tier: 'FlexConsumption'
    }
    reserved: true
  }
}

module face 'app/face.bicep' = {
  name: 'face'
  scope: rg
  params: {
    name: 'face-lg-${resourceToken}'
    location: location
    tags: tags
    skuName: faceSkuName
    privateOnly: vnetEnabled
  }
}

module email 'app/communication.bicep' = {
  name: 'email'
  scope: rg
  params: {
    resourceToken: resourceToken
    tags: tags
    dataLocation: emailDataLocation
  }
}

module vault 'app/keyvault.bicep' = {
  name: 'vault'
  scope: rg
  params: {
    name: 'kv-lg-${resourceToken}'
    location: location
    tags: tags
    sessionSealingKey: sessionSealingKey
    privateOnly: vnetEnabled
  }
}

module network 'app/network.bicep' = if (vnetEnabled) {
  name: 'network'
  scope: rg
  params: {
    name: 'vnet-lg-${resourceToken}'
    location: location
    tags: tags
  }
}

module storageEndpoints 'app/private-endpoint.bicep' = [for service in privateStorageServices: {
  name: 'pe-storage-${service}'
  scope: rg
  params: {
    name: 'pe-st-${service}-${resourceToken}'
    location: location
    tags: tags
    vnetId: network.outputs.id
    subnetId: network.outputs.privateEndpointSubnetId
    targetId: storage.outputs.resourceId
    groupId: service
    dnsZoneName: 'privatelink.${service}.${environment().suffixes.storage}'
  }
}]

module faceEndpoint 'app/private-endpoint.bicep' = if (vnetEnabled) {
  name: 'pe-face'
  scope: rg
  params: {
    name: 'pe-face-${resourceToken}'
    location: location
    tags: tags
    vnetId: network.outputs.id
    subnetId: network.outputs.privateEndpointSubnetId
    targetId: face.outputs.id
    groupId: 'account'
    dnsZoneName: 'privatelink.cognitiveservices.azure.com'
  }
}

module vaultEndpoint 'app/private-endpoint.bicep' = if (vnetEnabled) {
  name: 'pe-vault'
  scope: rg
  params: {
    name: 'pe-kv-${resourceToken}'
    location: location
    tags: tags
    vnetId: network.outputs.id
    subnetId: network.outputs.privateEndpointSubnetId
    targetId: vault.outputs.id
    groupId: 'vault'
    dnsZoneName: 'privatelink.vaultcore.azure.net'
  }
}

module alerts 'app/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    appInsightsId: monitoring.outputs.resourceId
    location: location
    tags: tags
    alertEmail: alertEmail
    reviewSlaSeconds: reviewSlaSeconds
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    principalId: identity.outputs.principalId
    storageAccountName: storage.outputs.name
    appInsightsName: monitoring.outputs.name
    faceAccountName: face.outputs.name
    communicationServiceName: email.outputs.communicationServiceName
    keyVaultName: vault.outputs.name
    userPrincipalId: principalId
  }
}

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  dependsOn: [rbac]
  params: {
    name: functionAppName
    location: location
    tags: union(tags, { 'azd-service-name': 'api' })
    planId: plan.outputs.resourceId
    identityId: identity.outputs.resourceId
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerName: deploymentContainerName
    authClientId: authClientId
    authTenantId: authTenantId
    subnetId: vnetEnabled ? network.outputs.appSubnetId : ''
    // The settings the app reads with their defaults come from the settings model (python -m shared.settings_catalog
    // writes app/app-settings.json); what follows is what this deployment computes.
    appSettings: union(loadJsonContent('app/app-settings.json'), {
      AzureWebJobsStorage__credential: 'managedidentity'
      AzureWebJobsStorage__clientId: identity.outputs.clientId
      AzureWebJobsStorage__blobServiceUri: 'https://${storage.outputs.name}.blob.${environment().suffixes.storage}'
      AzureWebJobsStorage__queueServiceUri: 'https://${storage.outputs.name}.queue.${environment().suffixes.storage}'
      AzureWebJobsStorage__tableServiceUri: 'https://${storage.outputs.name}.table.${environment().suffixes.storage}'
      APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.connectionString
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.outputs.clientId};Authorization=AAD'
      PYTHON_ENABLE_OPENTELEMETRY: 'true' // the worker streams the app's OpenTelemetry (shared/telemetry.py)
      TABLE_NAME_PREFIX: tablePrefix
      STORAGE_CREATE_MISSING: 'false' // the storage module above creates every table and queue; a cold start skips 16 calls
      NOTIFICATION_QUEUE: notificationQueue
      WEBHOOK_QUEUE: webhookQueue
      FACE_ENDPOINT: face.outputs.endpoint
      FACE_CLIENT_ID: identity.outputs.clientId
      FACE_API_VERSION: faceApiVersion
      ACS_ENDPOINT: email.outputs.endpoint
      ACS_CLIENT_ID: identity.outputs.clientId
      EMAIL_SENDER_ADDRESS: email.outputs.senderAddress
      SUPPORT_CONTACT: empty(supportContact) ? 'the operator of this Liveness Guard deployment' : supportContact
      EASY_AUTH_ENABLED: easyAuthEnabled ? 'true' : 'false'
      SESSION_SEALING_KEY: '@Microsoft.KeyVault(SecretUri=${vault.outputs.sealingKeySecretUri})'
      // During a key rotation add SESSION_SEALING_KEYS_PREVIOUS here: a Key Vault reference to the previous secret
      // version (README, Rotating SESSION_SEALING_KEY); app-settings.json deploys it empty.
      REVIEW_SLA_SECONDS: string(reviewSlaSeconds)
    })
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_KEY_VAULT_NAME string = vault.outputs.name
output SERVICE_API_NAME string = api.outputs.name
output SERVICE_API_URI string = api.outputs.uri
output FACE_ENDPOINT string = face.outputs.endpoint
output EMAIL_SENDER_ADDRESS string = email.outputs.senderAddress
output EASY_AUTH_ENABLED bool = easyAuthEnabled
output VNET_ENABLED bool = vnetEnabled
