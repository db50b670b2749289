# The sandbox's seed credentials of MISA and MobiWork DMS (sandbox/seed),
# for `. deploy/dms/env.sh` before using the CLI on this deployment. They
# are test values of the local emulators, not real secrets.
export LUONG_ADMIN_TOKEN="${LUONG_ADMIN_TOKEN:-sandbox-admin-token}"
export MISA_ACCESS_CODE="bHVvbmctc2FuZGJveC1tYS1rZXQtbm9pLWRlbW8tMjAyNS1jb25nLXR5LWFuLXBoYXQ="
export DMS_TOKEN_KEY="mw_tk_3f9a7c21d0b84e6a"
export DMS_WEBHOOK_SECRET="sandbox-dms-webhook-secret"
