#!/bin/sh
# The vending gate: asks contact-watch whether one subscription has a compliant Defender for Cloud
# security contact (GET /api/subscriptions/{id}/compliance?wait=120, docs/reference/http-api.md) and exits
#   0  compliant or exempt
#   1  noncompliant or error (each failing rule printed)
#   2  contact-watch did not answer, or bad input
#
#   CONTACT_WATCH_URL=https://<app>.azurewebsites.net CONTACT_WATCH_KEY=<function key> \
#   sh infra/scripts/check-subscription.sh <subscription-id>
#
# Retries connection failures, timeouts, 408, 429 and 5xx with back-off; a 400 (not a GUID) or
# 401 (wrong key) fails at once. The key is sent in a header read from stdin, never in the URL.
# The answer goes to a file, which curl empties before each retry: on stdout, a failed attempt's
# body would come before the good one.
set -u

subscription_id="${1:?usage: check-subscription.sh <subscription-id>}"
: "${CONTACT_WATCH_URL:?set it to the azd output CONTACT_WATCH_URL}"
: "${CONTACT_WATCH_KEY:?set it to a function key of subscriptionCompliance}"
wait_seconds="${CONTACT_WATCH_WAIT_SECONDS:-120}"

response=$(mktemp)
trap 'rm -f "$response"' EXIT
if ! printf 'x-functions-key: %s\n' "$CONTACT_WATCH_KEY" | curl --silent --show-error --fail-with-body \
  --max-time 180 --retry 5 --retry-connrefused --retry-max-time 900 --output "$response" \
  --header @- "$CONTACT_WATCH_URL/api/subscriptions/$subscription_id/compliance?wait=$wait_seconds"; then
  echo "contact-watch did not answer for $subscription_id: $(cat "$response")" >&2
  exit 2
fi
body=$(cat "$response")

status=$(printf '%s' "$body" | jq -r '.status')
echo "contact-watch: subscription $subscription_id is $status"
case "$status" in
  compliant | exempt) exit 0 ;;
  noncompliant | error)
    printf '%s' "$body" | jq -r '.findings[] | select(.result != "pass") | "  \(.ruleId): \(.message)"'
    exit 1 ;;
  *) echo "unexpected answer: $body" >&2; exit 2 ;;
esac
