/**
 * A fake Azure CLI: a POSIX shell script named `az`, written to a temporary folder that tests put first on PATH.
 * It answers `az account get-access-token --resource R --output json` with the real field set (token
 * `fake|R|<expires_on>`, understood by the fake Azure server) and `az account show --output json`.
 * Environment: FAKE_AZ_STATE=logged-out makes it print the CLI's not-logged-in error (exit 1);
 * FAKE_AZ_TTL sets the token lifetime in seconds (default 3600); FAKE_AZ_NOW fixes "now" (epoch seconds);
 * FAKE_AZ_LOG appends each invocation's arguments to a file; FAKE_AZ_SUBSCRIPTION sets the default subscription;
 * FAKE_AZ_TOKEN replaces the access token (e.g. one the fake server rejects as invalid).
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = `#!/bin/sh
[ -n "$FAKE_AZ_LOG" ] && echo "$*" >> "$FAKE_AZ_LOG"
if [ "$FAKE_AZ_STATE" = "logged-out" ]; then
  echo "ERROR: Please run 'az login' to setup account." >&2
  exit 1
fi
sub="\${FAKE_AZ_SUBSCRIPTION:-00000000-1111-2222-3333-444444444444}"
tenant="55555555-6666-7777-8888-999999999999"
case "$1 $2" in
  "account get-access-token")
    resource=""
    while [ $# -gt 0 ]; do
      if [ "$1" = "--resource" ]; then resource="$2"; shift; fi
      shift
    done
    now="\${FAKE_AZ_NOW:-$(date +%s)}"
    exp=$((now + \${FAKE_AZ_TTL:-3600}))
    local_time=$(date -d "@$exp" '+%Y-%m-%d %H:%M:%S.000000' 2>/dev/null || echo "1970-01-01 00:00:00.000000")
    printf '{\\n  "accessToken": "%s",\\n  "expiresOn": "%s",\\n  "expires_on": %s,\\n  "subscription": "%s",\\n  "tenant": "%s",\\n  "tokenType": "Bearer"\\n}\\n' "\${FAKE_AZ_TOKEN:-fake|$resource|$exp}" "$local_time" "$exp" "$sub" "$tenant"
    ;;
  "account show")
    printf '{\\n  "environmentName": "AzureCloud",\\n  "homeTenantId": "%s",\\n  "id": "%s",\\n  "isDefault": true,\\n  "managedByTenants": [],\\n  "name": "Fake subscription",\\n  "state": "Enabled",\\n  "tenantId": "%s",\\n  "user": {"name": "tester@example.com", "type": "user"}\\n}\\n' "$tenant" "$sub" "$tenant"
    ;;
  *)
    echo "ERROR: '$1' is misspelled or not recognized by the system." >&2
    exit 2
    ;;
esac
`;

/** Writes the fake `az` into a new folder and returns that folder (put it first on PATH) and the script path. */
export function installFakeAz(): { binDir: string; azPath: string } {
  const binDir = mkdtempSync(join(tmpdir(), 'vigil-fake-az-'));
  const azPath = join(binDir, 'az');
  writeFileSync(azPath, SCRIPT);
  chmodSync(azPath, 0o755);
  return { binDir, azPath };
}
