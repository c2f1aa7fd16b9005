#!/bin/sh
# azd postdeploy hook (azure.yaml): subscribes the contactEvents function to the custom topic for
# ContactWatch.SubscriptionCreated (docs/reference/events.md). It runs after the code is deployed because Event
# Grid validates an Azure Function destination against the function itself. Safe to run again:
# `create` replaces the event subscription with the same settings.
#
# azd passes the provision outputs as environment variables; by hand:
#   eval "$(azd env get-values)" && sh infra/scripts/postdeploy.sh
set -eu

: "${AZURE_RESOURCE_GROUP:?not set: run azd provision first}"
: "${CONTACT_WATCH_FUNCTION_APP_NAME:?not set: run azd provision first}"
: "${CONTACT_WATCH_FUNCTION_APP_ID:?not set: run azd provision first}"
: "${CONTACT_WATCH_EVENT_TOPIC_ID:?not set: run azd provision first}"

function_name=contactEvents
function_id="$CONTACT_WATCH_FUNCTION_APP_ID/functions/$function_name"

# Flex Consumption lists the functions once the host has loaded the new package: wait for it
# (bounded: 30 tries, 10 s apart).
tries=0
until az functionapp function show --resource-group "$AZURE_RESOURCE_GROUP" --name "$CONTACT_WATCH_FUNCTION_APP_NAME" \
  --function-name "$function_name" --query name --output tsv >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -ge 30 ]; then
    echo "postdeploy: $function_name is not listed on $CONTACT_WATCH_FUNCTION_APP_NAME after 5 minutes." >&2
    echo "postdeploy: check the app's log stream: a missing or malformed app setting stops the start with a message naming it." >&2
    exit 1
  fi
  echo "postdeploy: waiting for $function_name on $CONTACT_WATCH_FUNCTION_APP_NAME ($tries/30)…"
  sleep 10
done

az eventgrid event-subscription create \
  --name contact-watch-subscription-created \
  --source-resource-id "$CONTACT_WATCH_EVENT_TOPIC_ID" \
  --endpoint-type azurefunction \
  --endpoint "$function_id" \
  --included-event-types ContactWatch.SubscriptionCreated \
  --event-delivery-schema eventgridschema \
  --max-events-per-batch 1 \
  --max-delivery-attempts 30 \
  --event-ttl 1440 \
  --output none

echo "postdeploy: $CONTACT_WATCH_EVENT_TOPIC_ID → $function_name (ContactWatch.SubscriptionCreated)"
