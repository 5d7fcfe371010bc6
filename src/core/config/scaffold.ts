/**
 * `kbuild init`: the files of a new, small family that builds as it is — a base image on the
 * profile's external base and one image on it, with a smoke test. Pure: paths and texts out; the
 * CLI writes them.
 */
import { DEFAULT_PACKAGE_MANAGER } from './config.js';
import { parseReference } from '../dockerfile/reference.js';

export interface ScaffoldOptions {
  /** The family's external base, e.g. debian:bookworm or busybox:latest. */
  readonly baseImage: string;
  /** Namespace of the image references (`<namespace>/hello:<profile>`). */
  readonly namespace: string;
  /** The profile's name; default `<distro>-binary`. */
  readonly profile?: string;
}

export interface ScaffoldFile {
  /** Relative to the family's root, posix. */
  readonly path: string;
  readonly text: string;
}

/** A namespace from a folder name: lower case, `[a-z0-9]` runs joined by `-`. */
export function namespaceFrom(folder: string): string {
  return (
    folder
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'family'
  );
}

/** The files, or why the base image cannot be used. */
export function scaffoldFamily(
  o: ScaffoldOptions,
): { ok: true; files: ScaffoldFile[]; profile: string } | { ok: false; message: string } {
  const ref = parseReference(o.baseImage);
  if (!ref.ok) return { ok: false, message: `--base-image: ${ref.error}` };
  const distro = ref.value.path.split('/').at(-1)!;
  const distroTag = ref.value.tag ?? 'latest';
  const profile = o.profile ?? `${distro}-binary`;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(profile))
    return { ok: false, message: `--profile: '${profile}' is not a usable file name` };
  const known = DEFAULT_PACKAGE_MANAGER[distro];
  const packageManager = known
    ? `# package_manager: ${known}    # the default for ${distro}\n`
    : `# ${distro} is no distro kbuild knows: say which package manager templates may assume.\npackage_manager: apt\n`;
  const files: ScaffoldFile[] = [
    {
      path: 'kbuild.yaml',
      text: `# kbuild project: a family of container images built from Jinja-style templates.
# Images: images/<name>/Dockerfile.j2 (an image is named after its directory).
# Profiles: profiles/<name>.yaml (one distro x install-type build of the family).
images_dir: images
profiles_dir: profiles

# Where --push sends images, e.g. 127.0.0.1:5000; '' keeps them in the local engine.
registry: ''
namespace: ${o.namespace}
# The tag every image of one profile shares: ${o.namespace}/hello:${profile}.
tag: '{{ profile }}'
# maintainer: Your Team <team@example.com>    # set as the org.opencontainers.image.authors label

# Named selections for the command line (kbuild build -p ${profile} apps); 'all' is built in.
# A pattern is an image name, a glob, a /regex/ or another group's name.
groups:
  bases:
    - base
  apps:
    - hello
`,
    },
    {
      path: `profiles/${profile}.yaml`,
      text: `# ${profile}: the family built on ${o.baseImage}.
distro: ${distro}
distro_tag: ${distroTag}
base_image: ${o.baseImage}
install_type: binary
${packageManager}# RUN steps reach the network through the host ('none': no network at all).
network: host

# Template variables: {{ greeting }} in images/hello/Dockerfile.j2.
vars:
  greeting: hello

# Per-image settings, for example:
#   image_settings:
#     hello:
#       disabled: "not needed here"
`,
    },
    {
      path: 'images/macros.j2',
      text: `{#-
  macros.j2: building blocks shared by the family's templates. Import it with
  context, so the macros see the profile's variables:

      {% import "macros.j2" as macros with context %}
-#}

{#- A file saying which image and profile this is (smoke tests read it). -#}
{% macro stamp(name) -%}
RUN echo "{{ name }} built for {{ profile }}" > /etc/kbuild-{{ name }}.txt
{%- endmacro %}
`,
    },
    {
      path: 'images/base/Dockerfile.j2',
      text: `FROM {{ base_image }}
{% block base_header %}{% endblock %}

{% import "macros.j2" as macros with context %}

# What every image of the family shares goes here: users, certificates, a package set.
{{ macros.stamp(image_name) }}

{% block base_footer %}{% endblock %}
`,
    },
    {
      path: 'images/base/image.yaml',
      text: `labels:
  org.opencontainers.image.description: "the family's base: what every image shares"
test:
  timeout: 30
  command: grep -q 'base built for' /etc/kbuild-base.txt
`,
    },
    {
      path: 'images/hello/Dockerfile.j2',
      text: `FROM {{ image_ref('base') }}
{% block hello_header %}{% endblock %}

{% import "macros.j2" as macros with context %}

ENV GREETING="{{ greeting }}"
COPY hello.sh /usr/local/bin/hello
RUN chmod 0755 /usr/local/bin/hello
{{ macros.stamp(image_name) }}
CMD ["/usr/local/bin/hello"]

{% block hello_footer %}{% endblock %}
`,
    },
    {
      path: 'images/hello/hello.sh',
      text: `#!/bin/sh
# The build context is every file beside Dockerfile.j2: this one is COPY'd in.
echo "$GREETING from $(cat /etc/kbuild-hello.txt)"
`,
    },
    {
      path: 'images/hello/image.yaml',
      text: `labels:
  org.opencontainers.image.description: "kbuild example: says hello"
# Run inside the built image by 'kbuild build --test' and 'kbuild test' (no network).
test:
  timeout: 30
  command: |
    set -e
    /usr/local/bin/hello
    /usr/local/bin/hello | grep -q 'hello from hello built for'
`,
    },
    { path: '.gitignore', text: '# kbuild state, logs and build dirs\n.kbuild/\n' },
  ];
  return { ok: true, files, profile };
}
