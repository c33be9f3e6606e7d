// Azure AI Face, reached only with Entra ID (local auth off) through its custom subdomain.
param name string
param location string
param tags object
param skuName string = 'S0'
@description('Reachable only through its private endpoint (vnetEnabled).')
param privateOnly bool = false

resource face 'Microsoft.CognitiveServices/accounts@2024-10-01' = {
  name: name
  location: location
  tags: tags
  kind: 'Face'
  sku: {
    name: skuName
  }
  properties: {
    customSubDomainName: name
    disableLocalAuth: true
    publicNetworkAccess: privateOnly ? 'Disabled' : 'Enabled'
    networkAcls: {
      defaultAction: privateOnly ? 'Deny' : 'Allow'
    }
  }
}

output name string = face.name
output id string = face.id
output endpoint string = face.properties.endpoint
