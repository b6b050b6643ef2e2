/**
 * Config groups: every pipe and system belongs to one group, named by `metadata.$config-group` in
 * its config (no name: the group "default"). PUT /api/config replaces the default group,
 * PUT /api/config/{group} one named group, PUT /api/config-all everything; the node metadata entity
 * always belongs to the default group.
 */
import type { SourceFile } from '../../compiler/load/files.js';
import { entitiesOf, type ConfigEntity } from './config-files.js';

export const DEFAULT_GROUP = 'default';
export const GROUP_KEY = '$config-group';

export class ConfigGroupError extends Error {
  constructor(
    readonly status: 400 | 409,
    message: string,
  ) {
    super(message);
  }
}

export function groupOf(entity: ConfigEntity): string {
  const meta = entity.metadata;
  const g = meta && typeof meta === 'object' && !Array.isArray(meta) ? (meta as Record<string, unknown>)[GROUP_KEY] : undefined;
  return typeof g === 'string' && g !== '' ? g : DEFAULT_GROUP;
}

/** The config entities of one group, in config order. */
export function entitiesOfGroup(files: SourceFile[], group: string): ConfigEntity[] {
  return entitiesOf(files)
    .map((e) => e.entity)
    .filter((e) => groupOf(e) === group);
}

/** Every group that has at least one entity, sorted. */
export function groupNames(files: SourceFile[]): string[] {
  return [...new Set(entitiesOf(files).map((e) => groupOf(e.entity)))].sort();
}

/**
 * `entity` placed in `group`: the marker is set (or, for the default group, removed). Returns the
 * same object when nothing changes, so uploads that already carry the right marker keep their text.
 */
export function placedInGroup(entity: ConfigEntity, group: string): ConfigEntity {
  if (groupOf(entity) === group && (group !== DEFAULT_GROUP || !hasMarker(entity))) return entity;
  const meta = { ...((entity.metadata && typeof entity.metadata === 'object' ? entity.metadata : {}) as Record<string, unknown>) };
  if (group === DEFAULT_GROUP) delete meta[GROUP_KEY];
  else meta[GROUP_KEY] = group;
  const out: ConfigEntity = { ...entity };
  if (Object.keys(meta).length) out.metadata = meta;
  else delete out.metadata;
  return out;
}

function hasMarker(entity: ConfigEntity): boolean {
  const meta = entity.metadata as Record<string, unknown> | undefined;
  return !!meta && typeof meta === 'object' && GROUP_KEY in meta;
}

/**
 * Checks an upload for `group` against the running config: the node metadata only belongs to
 * the default group, and an id that another group already uses cannot move silently.
 */
export function checkGroupUpload(current: SourceFile[], uploaded: ConfigEntity[], group: string): void {
  const others = new Map(
    entitiesOf(current)
      .map((e) => e.entity)
      .filter((e) => groupOf(e) !== group)
      .map((e) => [e._id, groupOf(e)]),
  );
  for (const e of uploaded) {
    if (e.type === 'metadata' && group !== DEFAULT_GROUP) throw new ConfigGroupError(400, `the node metadata belongs to the default config group; upload it with PUT /api/config, not into group "${group}"`);
    const owner = others.get(e._id);
    if (owner !== undefined && groupOf(e) !== owner) throw new ConfigGroupError(409, `"${e._id}" already belongs to config group "${owner}"; remove it there first (or replace both groups with PUT /api/config-all)`);
  }
}
