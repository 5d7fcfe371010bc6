/**
 * Manifest lists (Docker) and image indexes (OCI): one reference that serves every platform.
 * Pure: builds the JSON a registry stores under the shared tag, and reads the platforms back.
 */

export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

/** Whether a manifest of this media type is a list (Docker) or an index (OCI) of manifests. */
export const isListMediaType = (mediaType: string): boolean =>
  mediaType === DOCKER_MANIFEST_LIST || mediaType === OCI_INDEX;

/** One platform's image, as pushed (by digest). */
export interface PlatformManifest {
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
  /** os/arch[/variant], e.g. linux/arm64/v8. */
  readonly platform: string;
}

/** linux/arm64/v8 -> {os, architecture, variant}. */
export function platformObject(p: string): { os: string; architecture: string; variant?: string } {
  const [os = '', architecture = '', variant] = p.split('/');
  return { os, architecture, ...(variant ? { variant } : {}) };
}

/**
 * The list naming every platform's manifest. A Docker manifest list when every child is a Docker
 * manifest (what docker push writes), an OCI index otherwise: a registry stores either, and a
 * Docker list may not name OCI manifests.
 */
export function manifestList(children: readonly PlatformManifest[]): {
  mediaType: string;
  body: string;
} {
  const docker = children.every((c) => c.mediaType === DOCKER_MANIFEST);
  const mediaType = docker ? DOCKER_MANIFEST_LIST : OCI_INDEX;
  const body = JSON.stringify(
    {
      schemaVersion: 2,
      mediaType,
      manifests: [...children]
        .sort((a, b) => (a.platform < b.platform ? -1 : a.platform > b.platform ? 1 : 0))
        .map((c) => ({
          mediaType: c.mediaType,
          digest: c.digest,
          size: c.size,
          platform: platformObject(c.platform),
        })),
    },
    null,
    2,
  );
  return { mediaType, body };
}

/**
 * The entries of a manifest list or index: each one's platform (os/arch[/variant]) and digest
 * (undefined when it has none); [] for a plain manifest or what is not JSON.
 */
export function listedManifests(body: string): { platform: string; digest?: string }[] {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return [];
  }
  const manifests = (doc as { manifests?: unknown }).manifests;
  if (!Array.isArray(manifests)) return [];
  return manifests.map(
    (m: {
      digest?: unknown;
      platform?: { os?: string; architecture?: string; variant?: string };
    }) => ({
      platform: [m.platform?.os ?? '', m.platform?.architecture ?? '', m.platform?.variant]
        .filter((x) => x !== undefined)
        .join('/'),
      ...(typeof m.digest === 'string' ? { digest: m.digest } : {}),
    }),
  );
}

/** The platforms a manifest list or index names (os/arch[/variant]); [] for a plain manifest. */
export const listedPlatforms = (body: string): string[] =>
  listedManifests(body).map((m) => m.platform);

/** `linux/arm64` covers `linux/arm64/v8`: a requested platform without a variant matches any. */
export function platformMatches(requested: string, listed: string): boolean {
  return listed === requested || listed.startsWith(`${requested}/`);
}
