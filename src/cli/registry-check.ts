/**
 * The registry a run will push to or take images from, asked once before anything is built: a
 * registry nobody answers for is not a transient fault to retry per image, but one clear failure
 * up front.
 */
import type { Family } from '../core/family.js';

/**
 * With --push, or when the run looks for images of the same fingerprint in the registry (fp
 * tags, unless --no-registry-cache): `GET /v2/` once. The message (one line, ending in a newline)
 * when the registry cannot be used, naming it and what to do; undefined when it answers (200,
 * 401), or answers with a transient status (5xx, 429: the pushes retry those).
 */
export async function unreachableRegistry(
  family: Family,
  uses: { readonly push: boolean; readonly registryCache: boolean },
): Promise<string | undefined> {
  const registry = family.naming.registry;
  if (!registry || (!uses.push && !uses.registryCache)) return undefined;
  const { pingRegistry, isSetupRegistry } = await import('../adapters/host-checks.js');
  const ping = await pingRegistry(registry, 10_000);
  if (ping.ok) return undefined;
  if (ping.status !== undefined && (ping.status === 429 || ping.status >= 500)) return undefined;
  const start = isSetupRegistry(registry)
    ? 'start it (`sudo scripts/setup-host.sh`)'
    : `start it or make it reachable from this host`;
  return (
    `kbuild: the registry ${registry} cannot be used (${ping.detail}); nothing was built. ` +
    `${start}, check --registry (or 'registry' in kbuild.yaml / ${family.profile.file}), and run \`kbuild doctor\`` +
    (uses.push ? '' : '; or build without it: --no-registry-cache') +
    '\n'
  );
}
