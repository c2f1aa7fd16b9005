#!/bin/sh
# Publishes ContactWatch.SubscriptionCreated for one subscription to contact-watch's custom topic
# (docs/reference/events.md), authenticated with Microsoft Entra ID: the topic's keys are disabled, and the
# signed-in identity (az login, azure/login, AzureCLI@2) needs EventGrid Data Sender on the topic
# (main.bicep parameter vendingPublisherPrincipalId). The Azure CLI has no data-plane "publish"
# command, so this asks az for an Event Grid token and posts the event with curl.
#
#   CONTACT_WATCH_EVENT_TOPIC_ENDPOINT=https://<topic>.<region>-1.eventgrid.azure.net/api/events \
#   sh infra/scripts/publish-subscription-created.sh <subscription-id>
#
# Retries connection failures, timeouts, 408, 429 and 5xx with back-off (curl --retry); a 4xx
# such as 401/403 (no role) or 400 fails at once. Exit 0 when Event Grid accepted the event.
set -eu

subscription_id="${1:?usage: publish-subscription-created.sh <subscription-id>}"
: "${CONTACT_WATCH_EVENT_TOPIC_ENDPOINT:?set it to the azd output CONTACT_WATCH_EVENT_TOPIC_ENDPOINT}"

if ! printf '%s' "$subscription_id" | grep -Eqi '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'; then
  echo "publish-subscription-created: \"$subscription_id\" is not a subscription id (a GUID)" >&2
  exit 2
fi

token=$(az account get-access-token --resource https://eventgrid.azure.net --query accessToken --output tsv)
event_id=$(cat /proc/sys/kernel/random/uuid 2>/dev/null || uuidgen)
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
body=$(printf '[{"id":"%s","eventType":"ContactWatch.SubscriptionCreated","subject":"/subscriptions/%s","eventTime":"%s","dataVersion":"1.0","data":{"subscriptionId":"%s"}}]' \
  "$event_id" "$subscription_id" "$now" "$subscription_id")

# The token goes in a header read from stdin, never on the command line (ps would show it).
printf 'Authorization: Bearer %s\n' "$token" | curl --silent --show-error --fail-with-body \
  --max-time 30 --retry 6 --retry-connrefused --retry-max-time 300 \
  --header @- --header 'Content-Type: application/json' \
  --data "$body" "$CONTACT_WATCH_EVENT_TOPIC_ENDPOINT" >/dev/null

echo "publish-subscription-created: ContactWatch.SubscriptionCreated for $subscription_id accepted (event $event_id)"
