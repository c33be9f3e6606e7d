// Azure AI Face, reached only with Entra ID (local auth off) through its custom subdomain.
param name string
param location string
param tags object
param skuName string = 'S0'

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
    publicNetworkAccess: 'Enabled'
  }
}

output name string = face.name
output endpoint string = face.properties.endpoint
