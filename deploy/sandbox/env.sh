# The sandbox's seed credentials (sandbox/seed/*.json) and the webhook
# signing keys, for `. deploy/sandbox/env.sh` before using the CLI.
# They are test values of the local emulators, not real secrets.
export LUONG_ADMIN_TOKEN="${LUONG_ADMIN_TOKEN:-sandbox-admin-token}"
export MISA_ACCESS_CODE="bHVvbmctc2FuZGJveC1tYS1rZXQtbm9pLWRlbW8tMjAyNS1jb25nLXR5LWFuLXBoYXQ="
export AMIS_CRM_CLIENT_SECRET="Y3JtLXNhbmRib3gtY2xpZW50LXNlY3JldC1hbnBoYXQ="
export AMIS_KHO_CLIENT_SECRET="a2hvLXNhbmRib3gtY2xpZW50LXNlY3JldC1hbnBoYXQ="
export AMIS_CRM_WEBHOOK_SECRET="sandbox-crm-webhook-secret"
export AMIS_KHO_WEBHOOK_SECRET="sandbox-kho-webhook-secret"
export HARAVAN_ACCESS_TOKEN="hrv_pat_anphat_full_7f3c9a41d2e8"
export HARAVAN_WEBHOOK_SECRET="hrv-whsec-anphat-5d1e0c7a9b"
export HARAVAN_VERIFY_TOKEN="luong-verify-anphat"
