// Synthetic image families for benchmarks: written to disk as real kbuild projects.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A small deterministic PRNG (mulberry32), so every run benchmarks the same family. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MACROS = `{% macro install_packages(packages) -%}
{% if package_manager == 'apt' -%}
RUN apt-get update && apt-get install -y --no-install-recommends {{ packages | join(' ') }} \\
    && apt-get clean && rm -rf /var/lib/apt/lists/*
{%- else -%}
RUN dnf install -y {{ packages | join(' ') }} && dnf clean all
{%- endif %}
{%- endmacro %}
{% macro configure_user(name, id) -%}
RUN groupadd --gid {{ id }} {{ name }} && useradd -l -M --uid {{ id }} --gid {{ id }} {{ name }}
{%- endmacro %}
`;

function template(name, parent, i) {
  const from = parent ? `{{ image_ref('${parent}') }}` : '{{ base_image }}';
  const block = name.replace(/-/g, '_');
  return `{% import "macros.j2" as macros with context %}
FROM ${from}
LABEL maintainer="{{ maintainer }}" name="{{ image_name }}"
{% block ${block}_header %}{% endblock %}
{% set packages = ['pkg-${i}', 'common-tools'] %}
{{ macros.install_packages(packages | customizable('packages')) }}
{% for port in [${1000 + i}, ${2000 + i}] %}
EXPOSE {{ port }}{% if loop.last %} # last{% endif %}
{% endfor %}
{% if install_type == 'source' %}
COPY src /opt/${name}
{% endif %}
{{ macros.configure_user('${name.slice(0, 20)}', ${40000 + i}) }}
{% block ${block}_footer %}{% endblock %}
`;
}

/**
 * Writes a family whose level i has widths[i] images; each image picks a parent on the level
 * above (fanOut, when given, fixes how many children the first parent of a level gets).
 */
export function writeFamily(dir, { widths, seed = 1, fanOut = {} }) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'images'), { recursive: true });
  mkdirSync(join(dir, 'profiles'), { recursive: true });
  writeFileSync(
    join(dir, 'kbuild.yaml'),
    'namespace: bench\ntag: "{{ profile }}"\nmaintainer: bench\n',
  );
  writeFileSync(
    join(dir, 'profiles', 'p.yaml'),
    'distro: debian\ndistro_tag: bookworm\ninstall_type: binary\n',
  );
  writeFileSync(join(dir, 'images', 'macros.j2'), MACROS);
  const random = rng(seed);
  const levels = [];
  let n = 0;
  widths.forEach((width, level) => {
    const names = [];
    const above = levels[level - 1] ?? [];
    const pinned = fanOut[level] ?? 0;
    for (let k = 0; k < width; k++) {
      const name = level === 0 && width === 1 ? 'base' : `l${level}-img-${k}`;
      let parent;
      if (above.length)
        parent =
          k < pinned
            ? above[0]
            : above[(pinned ? 1 : 0) + Math.floor(random() * (above.length - (pinned ? 1 : 0)))];
      const group = level === 0 ? '' : `group-${level}/`;
      mkdirSync(join(dir, 'images', group, name), { recursive: true });
      writeFileSync(join(dir, 'images', group, name, 'Dockerfile.j2'), template(name, parent, n++));
      names.push(name);
    }
    levels.push(names);
  });
  return n;
}
