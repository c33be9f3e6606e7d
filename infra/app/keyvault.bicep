// Key Vault (RBAC) holding the one secret no identity can replace: the session sealing key.
param name string
param location string
param tags object
@secure()
param sessionSealingKey string
@description('Reachable only through its private endpoint (vnetEnabled); Azure Resource Manager still writes the secret.')
param privateOnly bool = false

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    enablePurgeProtection: true
    publicNetworkAccess: privateOnly ? 'Disabled' : 'Enabled'
    networkAcls: {
      defaultAction: privateOnly ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource sealingKey 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'session-sealing-key'
  properties: {
    value: sessionSealingKey
    contentType: 'text/plain'
  }
}

output name string = vault.name
output id string = vault.id
output sealingKeySecretUri string = sealingKey.properties.secretUri
