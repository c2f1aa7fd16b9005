# azd postdeploy hook on Windows: the same as postdeploy.sh (read that file's notes).
$ErrorActionPreference = 'Stop'
foreach ($name in 'AZURE_RESOURCE_GROUP', 'CONTACT_WATCH_FUNCTION_APP_NAME', 'CONTACT_WATCH_FUNCTION_APP_ID', 'CONTACT_WATCH_EVENT_TOPIC_ID') {
  if (-not [Environment]::GetEnvironmentVariable($name)) { throw "$name is not set: run azd provision first" }
}
$functionName = 'contactEvents'
$functionId = "$env:CONTACT_WATCH_FUNCTION_APP_ID/functions/$functionName"

for ($try = 1; ; $try++) {
  az functionapp function show --resource-group $env:AZURE_RESOURCE_GROUP --name $env:CONTACT_WATCH_FUNCTION_APP_NAME `
    --function-name $functionName --query name --output tsv 2>$null | Out-Null
  if ($LASTEXITCODE -eq 0) { break }
  if ($try -ge 30) {
    throw "$functionName is not listed on $env:CONTACT_WATCH_FUNCTION_APP_NAME after 5 minutes; check the app's log stream (a missing or malformed app setting stops the start with a message naming it)."
  }
  Write-Host "postdeploy: waiting for $functionName ($try/30)…"
  Start-Sleep -Seconds 10
}

az eventgrid event-subscription create `
  --name contact-watch-subscription-created `
  --source-resource-id $env:CONTACT_WATCH_EVENT_TOPIC_ID `
  --endpoint-type azurefunction `
  --endpoint $functionId `
  --included-event-types ContactWatch.SubscriptionCreated `
  --event-delivery-schema eventgridschema `
  --max-events-per-batch 1 `
  --max-delivery-attempts 30 `
  --event-ttl 1440 `
  --output none
if ($LASTEXITCODE -ne 0) { throw 'az eventgrid event-subscription create failed' }
Write-Host "postdeploy: $env:CONTACT_WATCH_EVENT_TOPIC_ID -> $functionName (ContactWatch.SubscriptionCreated)"
