/**
 * The merge source: entities of several datasets that equality rules say are the same thing are
 * merged into one entity, transitively (A = B and B = C puts A, B and C together). Rules, ids,
 * strategies and `$ids` are described in merge-rules.ts and merge-combine.ts. Deleted input
 * entities are never merged: each stands alone as a deleted merged entity. When a merged entity's
 * id stops being used (its group split, joined another or changed its first member), a deletion
 * of that id with `$replaced: true` is emitted.
 *
 * Incremental merging and its state
 * ---------------------------------
 * The source keeps its state in a dataset of its own, `system:merge:<pipe id>`, written only
 * through the Store interface, so it survives restarts and works with any store. It holds three
 * kinds of records (plain properties; nothing at the root starts with "_"):
 *
 * - `cursor`: the offset read up to in every input dataset (`c_offsets`), while some members
 *   still need their group recomputed the state offset after which they are (`c_dirty_from`), the
 *   base of the `since` tokens (`c_base`), the full run that rebuilt the state (`c_run`) and the
 *   hash of the source config it was built with (`c_config`);
 * - `m|<dataset>|<id>`, one per input entity (a *member*): its latest version (`m_entity`), its
 *   equality tokens (`m_keys`, indexed), whether it is deleted, the merged id it currently
 *   belongs to (`m_group`, indexed) and whether it changed since its group was last computed
 *   (`m_dirty`);
 * - `o|<merged id>`, one per merged entity ever emitted (an *output*): the entity as emitted
 *   (`o_entity`) and the members it was made of (`o_members`, empty once replaced).
 *
 * A run does three things; every state change is a single `Store.write` (atomic), and every
 * state the dataset passes through is a valid one to resume from:
 *
 * 1. Ingest. New versions in every input dataset since its cursor offset become member records
 *    (tokens evaluated with the rules in force), marked dirty, written page by page together with
 *    the advanced cursor (and `c_dirty_from`, set before the first dirty member is written).
 * 2. Recompute. Dirty members are taken in state order. From each, the affected part of the graph
 *    is collected through the two indexes: members with a matching token (new edges) and members
 *    of the same current group (old groups that may split), until closed. Its connected
 *    components are the new groups: they get merged entities, old ids no longer used get `$replaced`
 *    deletions, members get their group and lose the dirty mark. Output records are written with
 *    the member records; the store's change detection gives an output record a new version only
 *    when the merged entity changed. Once no member is dirty, `c_dirty_from` is cleared.
 * 3. Emit. The output records with a version after the pipe's checkpoint are emitted in state
 *    order, like a dataset source reading the state dataset: the `since` token of a batch is the
 *    state offset of its last record (plus the base, below) and an entity's `_updated` the offset
 *    of its record. So the sink stores a new version only when a merged entity changed, and
 *    merged entities that disappeared arrive as deletions.
 *
 * Consistency with the checkpoint: the pipe's checkpoint (`since`) is saved by the executor with
 * the sink's writes, the state by this source, separately. The state may therefore run ahead of
 * the checkpoint (a crash, a failed or stopped run, `checkpoint_interval`), never behind it: the
 * next run emits every output record changed after the checkpoint, i.e. the current content of
 * every merged entity the sink may have missed (superseded versions are not emitted: an entity a
 * failed run could not deliver is sent as it is now). Sending the current content of an entity
 * again is harmless; a dataset sink finds it unchanged. A stopped run leaves dirty members and
 * cursor in the state, and the next run carries on from them.
 *
 * A full run from scratch (no `since`: first run, reset, rescan) deletes the state and rebuilds it,
 * emitting every merged entity, so the sink's deletion tracking removes merged entities that no
 * longer exist; the same full run resumed after an interruption (same run id, same source config)
 * carries on with the state it has built so far instead of starting over. If the state dataset is missing while the pipe has an offset (it was deleted, or the
 * pipe used another source before), it is rebuilt and every merged entity emitted; the base makes
 * new tokens sort after the old one. Old versions of state records are compacted away once they pile up.
 *
 * Equality rules are evaluated when a member is ingested: rules added later only apply to entities
 * changed afterwards, and removing a dataset needs a full run (as the documentation says). Versions
 * 1 and 2 behave the same here, except that `max_merged` is only enforced for version 2.
 */
import { createHash } from 'node:crypto';
import schema from '../../../schemas/sources/merge.schema.json' with { type: 'json' };
import type { Entity } from '../../../compiler/values/types.js';
import type { Store, StoredEntity } from '../../store/contract.js';
import { settleHeap } from '../../executor/heap-budget.js';
import type { ComponentContext, RunInfo, Since, SourceBatch, SourceSpec } from '../types.js';
import { combineParts, compareParts, type CombineOptions, type MergePart } from './merge-combine.js';
import { parseDatasets, parseEquality, partnerToken, tokensFor, type EqualityRule, type MergeDataset } from './merge-rules.js';
import { emptySourceError, inputsPopulated, type Offsets } from './merge-support.js';
import { pipeOwnedDataset } from '../pipe-owned.js';

/** The merge source's own state: which source entities make up which merged entity. */
const mergeStateDataset = pipeOwnedDataset((pipe) => `system:merge:${pipe}`);

interface MemberFields {
  m_ds: string;
  m_eid: string;
  m_keys: string[];
  m_deleted: boolean;
  m_entity: Entity;
  m_group: string | null;
  m_dirty: boolean;
}

type MemberRec = StoredEntity & MemberFields & { kind: 'member' };
type OutputRec = StoredEntity & { kind: 'output'; o_members: string[]; o_entity: Entity };
type CursorRec = StoredEntity & { kind: 'cursor'; c_offsets: Offsets; c_dirty_from: number | null; c_base: number; c_run: string | null; c_config: string };

const CURSOR = 'cursor';
/** Input versions read per state write while ingesting. */
const INGEST_PAGE = 1000;

const memberId = (dataset: string, id: string) => `m|${dataset}|${id}`;
const outputId = (id: string) => `o|${id}`;

function memberRecord(f: MemberFields): Entity {
  return { _id: memberId(f.m_ds, f.m_eid), kind: 'member', m_ds: f.m_ds, m_eid: f.m_eid, m_keys: f.m_keys, m_deleted: f.m_deleted, m_entity: f.m_entity, m_group: f.m_group, m_dirty: f.m_dirty };
}

function outputRecord(id: string, members: string[], entity: Entity): Entity {
  return { _id: outputId(id), kind: 'output', o_members: members, o_entity: entity };
}

/** Records of V's that are computed but not yet written (several go into one state write). */
interface Pending {
  records: Map<string, Entity>;
  /** Merged ids the pending records write. */
  claims: Set<string>;
  /** Members the pending records write. */
  handled: Set<string>;
}

interface GroupPlan {
  outputs: Map<string, { members: string[]; entity: Entity }>;
  groupOf: Map<string, string>;
}

export interface MergeSettings {
  what: string;
  inputs: MergeDataset[];
  rules: EqualityRule[];
  combine: CombineOptions;
  version: number;
  maxMerged: number;
  stateDataset: string;
  failWhenEmpty: boolean;
  /** Hash of the source config: a resumed full run only continues a state built with the same one. */
  fingerprint: string;
}

class Conflict {}
const CONFLICT = new Conflict();

/** One run of a merge source over its state. */
class MergeRun {
  private readonly store: Store;
  private offsets: Offsets = {};
  private dirtyFrom: number | null = null;
  private base = 0;
  /** The full run that rebuilt the state from scratch (a resumed run continues it). */
  private fullRun: string | null = null;
  private stateLast = 0;
  private readonly index: Map<string, MergeDataset>;

  constructor(
    private readonly s: MergeSettings,
    private readonly ctx: ComponentContext,
  ) {
    this.store = ctx.store;
    this.index = new Map(s.inputs.map((d) => [d.dataset, d]));
  }

  private cursorRecord(): Entity {
    return { _id: CURSOR, kind: 'cursor', c_offsets: { ...this.offsets }, c_dirty_from: this.dirtyFrom, c_base: this.base, c_run: this.fullRun, c_config: this.s.fingerprint };
  }

  private parseSince(since: Since): number | null {
    if (since === null || since === '') return null;
    if (typeof since === 'number' && Number.isFinite(since)) return since;
    if (typeof since === 'string' && /^\d+$/.test(since)) return Number(since);
    throw new Error(`${this.s.what}: cannot continue from the since value ${JSON.stringify(since)}; the merge source's offsets are numbers (reset the pipe to rebuild the merge)`);
  }

  private async ensureIndexes(): Promise<void> {
    await this.store.ensureIndex(this.s.stateDataset, ['m_keys']);
    await this.store.ensureIndex(this.s.stateDataset, ['m_group']);
  }

  private async reset(base: number, runId: string | null): Promise<void> {
    await this.store.deleteDataset(this.s.stateDataset);
    await this.store.ensureDataset(this.s.stateDataset);
    await this.ensureIndexes();
    this.offsets = {};
    this.dirtyFrom = null;
    this.base = base;
    this.fullRun = runId;
    this.stateLast = (await this.store.write(this.s.stateDataset, [this.cursorRecord()])).lastOffset;
  }

  private emitted(rec: StoredEntity): Entity {
    return { ...((rec as OutputRec).o_entity as Entity), _updated: rec._updated + this.base };
  }

  async *read(since: Since, batchSize: number, run: RunInfo): AsyncGenerator<SourceBatch> {
    const start = this.parseSince(since);
    let cursor = (await this.store.get(this.s.stateDataset, CURSOR)) as CursorRec | null;
    // A full run from scratch starts a new state, unless it is this same run resumed after an interruption.
    if (start === null && (cursor?.c_run !== run.id || cursor?.c_config !== this.s.fingerprint)) cursor = null;
    if (cursor === null) {
      if (start !== null) {
        this.ctx.logger.warn({ pipe: this.ctx.pipe.id, dataset: this.s.stateDataset }, 'the merge state is missing; rebuilding it (merged entities that no longer exist are only deleted by a full run)');
      }
      await this.reset(start === null ? 0 : start + 1, start === null ? run.id : null);
    } else {
      this.offsets = { ...cursor.c_offsets };
      this.dirtyFrom = cursor.c_dirty_from ?? null;
      this.base = cursor.c_base ?? 0;
      this.fullRun = cursor.c_run ?? null;
      this.stateLast = (await this.store.datasetInfo(this.s.stateDataset))?.lastOffset ?? -1;
      await this.ensureIndexes();
    }
    const lastAtStart = this.stateLast;
    // 1. Ingest the input datasets' new versions; 2. recompute the groups of changed members.
    if (!(await this.ingest(run))) return;
    if (!(await this.recompute(run))) return;
    // 3. Emit the merged entities whose records changed after the checkpoint.
    // (An offset set beyond the end of the state counts as its end when the run started.)
    const from = start === null || cursor === null ? -1 : Math.min(Math.max(-1, start - this.base), lastAtStart);
    let count = 0;
    for await (const page of this.store.scanBatches(this.s.stateDataset, { since: from, batchSize })) {
      const entities = page.filter((r) => r.kind === 'output').map((r) => this.emitted(r));
      if (!entities.length) continue;
      count += entities.length;
      yield { entities, since: page[page.length - 1]._updated + this.base };
      if (run.signal.aborted) return;
    }
    // Only the latest version of a record is ever read again: drop the others once they pile up.
    const info = await this.store.datasetInfo(this.s.stateDataset);
    if (info && info.versionCount > 2 * (info.entityCount + info.deletedCount) + 1000) await this.store.compact(this.s.stateDataset, { keepVersions: 1 });
    if (run.full && start === null && this.s.failWhenEmpty && count === 0) throw emptySourceError(this.s.what);
  }

  private async ingest(run: RunInfo): Promise<boolean> {
    for (const input of this.s.inputs) {
      for await (const page of this.store.scanBatches(input.dataset, { since: this.offsets[input.dataset], batchSize: INGEST_PAGE })) {
        const existing = await this.store.getMany(
          this.s.stateDataset,
          page.map((e) => memberId(input.dataset, e._id)),
        );
        const records: Entity[] = [];
        for (const e of page) {
          const prev = existing.get(memberId(input.dataset, e._id)) as MemberRec | undefined;
          const deleted = e._deleted === true;
          const keys = deleted ? [] : tokensFor(this.s.rules, input.alias, e, () => `${this.s.what}: entity "${e._id}" of dataset "${input.dataset}"`);
          records.push(memberRecord({ m_ds: input.dataset, m_eid: e._id, m_keys: keys, m_deleted: deleted, m_entity: e, m_group: prev?.m_group ?? null, m_dirty: true }));
        }
        this.offsets[input.dataset] = page[page.length - 1]._updated;
        this.dirtyFrom ??= this.stateLast;
        records.push(this.cursorRecord());
        this.stateLast = (await this.store.write(this.s.stateDataset, records)).lastOffset;
        // Ingest and recompute run before the first batch is emitted, out of the executor's reach.
        settleHeap();
        if (run.signal.aborted) return false;
      }
    }
    return true;
  }

  /** Recomputes the groups of all dirty members; false when the run was stopped first. */
  private async recompute(run: RunInfo): Promise<boolean> {
    if (this.dirtyFrom === null) return true;
    const pending: Pending = { records: new Map(), claims: new Set(), handled: new Set() };
    for await (const page of this.store.scanBatches(this.s.stateDataset, { since: this.dirtyFrom, batchSize: INGEST_PAGE })) {
      for (const row of page) {
        if (row.kind !== 'member' || row.m_dirty !== true || pending.handled.has(row._id)) continue;
        if ((await this.resolve(row._id, pending)) === CONFLICT) {
          // The affected part of the graph overlaps records not written yet: write them first.
          await this.flush(pending);
          if ((await this.resolve(row._id, pending)) === CONFLICT) throw new Error(`${this.s.what}: internal error: the merge of "${row._id}" conflicts with itself`);
        }
        if (pending.records.size >= 2 * INGEST_PAGE) {
          await this.flush(pending);
          if (run.signal.aborted) return false;
        }
      }
    }
    await this.flush(pending);
    if (run.signal.aborted) return false;
    this.dirtyFrom = null;
    this.stateLast = (await this.store.write(this.s.stateDataset, [this.cursorRecord()])).lastOffset;
    return true;
  }

  /** Writes the pending records (one atomic state change). */
  private async flush(pending: Pending): Promise<void> {
    const records = [...pending.records.values()];
    pending.records.clear();
    pending.claims.clear();
    pending.handled.clear();
    if (records.length) this.stateLast = (await this.store.write(this.s.stateDataset, records)).lastOffset;
    settleHeap();
  }

  private maxMergedError(count: number, sample: Iterable<MemberRec>): Error {
    const ids: string[] = [];
    for (const m of sample) {
      if (ids.length >= 5) break;
      ids.push(`"${m.m_eid}" (${m.m_ds})`);
    }
    return new Error(`${this.s.what}: ${count} entities would be merged into one, more than max_merged (${this.s.maxMerged}); among them ${ids.join(', ')}. Make the equality rules more selective (values that should not merge can be filtered out so that they evaluate to null) or raise max_merged`);
  }

  /**
   * Grows V to everything its members are connected to: members with a matching token and members
   * of the same current group. False when it reaches members of pending (unwritten) records.
   */
  private async expand(V: Map<string, MemberRec>, frontier: MemberRec[], groups: Set<string>, pending: Pending): Promise<boolean> {
    const cap = this.s.version >= 2 ? Math.max(10 * this.s.maxMerged, 1000) : Infinity;
    while (frontier.length) {
      const tokens = new Set<string>();
      const newGroups: string[] = [];
      for (const m of frontier) {
        for (const t of m.m_keys) tokens.add(partnerToken(t));
        if (m.m_group !== null && !groups.has(m.m_group)) {
          groups.add(m.m_group);
          newGroups.push(m.m_group);
        }
      }
      const found: StoredEntity[] = [];
      if (tokens.size) found.push(...(await this.store.lookup(this.s.stateDataset, ['m_keys'], [...tokens])));
      if (newGroups.length) found.push(...(await this.store.lookup(this.s.stateDataset, ['m_group'], newGroups)));
      frontier = [];
      for (const f of found) {
        if (f.kind !== 'member' || V.has(f._id)) continue;
        if (pending.handled.has(f._id)) return false;
        V.set(f._id, f as MemberRec);
        frontier.push(f as MemberRec);
      }
      if (V.size > cap) throw this.maxMergedError(V.size, V.values());
    }
    return true;
  }

  /** Recomputes the groups around one dirty member and adds the records to write to `pending`. */
  private async resolve(seedId: string, pending: Pending): Promise<Conflict | null> {
    const seed = (await this.store.get(this.s.stateDataset, seedId)) as MemberRec | null;
    if (!seed || seed.m_dirty !== true) return null;
    const V = new Map<string, MemberRec>([[seed._id, seed]]);
    const groups = new Set<string>();
    if (!(await this.expand(V, [seed], groups, pending))) return CONFLICT;
    let plan: GroupPlan;
    for (;;) {
      plan = this.plan(V);
      const oldIds = new Set([...V.values()].map((m) => m.m_group).filter((g): g is string => g !== null));
      const fresh = [...plan.outputs.keys()].filter((id) => !oldIds.has(id));
      if ([...plan.outputs.keys(), ...oldIds].some((id) => pending.claims.has(id))) return CONFLICT;
      // A new id may still belong to another group (identity "first"): that group is affected too.
      const existing = fresh.length ? await this.store.getMany(this.s.stateDataset, fresh.map(outputId)) : new Map<string, StoredEntity>();
      const owned = fresh.filter((id) => ((existing.get(outputId(id)) as OutputRec | undefined)?.o_members ?? []).length > 0);
      if (!owned.length) break;
      const before = V.size;
      const extra: MemberRec[] = [];
      for (const f of await this.store.lookup(this.s.stateDataset, ['m_group'], owned)) {
        if (f.kind !== 'member' || V.has(f._id)) continue;
        if (pending.handled.has(f._id)) return CONFLICT;
        V.set(f._id, f as MemberRec);
        extra.push(f as MemberRec);
      }
      if (!(await this.expand(V, extra, groups, pending))) return CONFLICT;
      if (V.size === before) break;
    }
    const records: Entity[] = [];
    for (const [id, out] of plan.outputs) {
      records.push(outputRecord(id, out.members, out.entity));
      pending.claims.add(id);
    }
    const gone = [...new Set([...V.values()].map((m) => m.m_group))].filter((g): g is string => g !== null && !plan.outputs.has(g));
    if (gone.length) {
      const previous = await this.store.getMany(this.s.stateDataset, gone.map(outputId));
      for (const id of gone) {
        const prev = previous.get(outputId(id)) as OutputRec | undefined;
        if (!prev || prev.o_members.length === 0) continue;
        records.push(outputRecord(id, [], { ...prev.o_entity, _id: id, _deleted: true, $replaced: true }));
        pending.claims.add(id);
      }
    }
    for (const m of V.values()) {
      const group = plan.groupOf.get(m._id)!;
      if (m.m_dirty || m.m_group !== group) {
        records.push(memberRecord({ m_ds: m.m_ds, m_eid: m.m_eid, m_keys: m.m_keys, m_deleted: m.m_deleted, m_entity: m.m_entity, m_group: group, m_dirty: false }));
      }
      pending.handled.add(m._id);
    }
    for (const r of records) pending.records.set(r._id as string, r);
    return null;
  }

  private part(m: MemberRec): MergePart {
    return { index: this.index.get(m.m_ds)?.index ?? this.s.inputs.length, id: m.m_eid, entity: m.m_entity };
  }

  /** The groups of V (connected components of the token graph; deleted members alone). */
  private plan(V: Map<string, MemberRec>): GroupPlan {
    const members = [...V.values()];
    const parent = members.map((_, i) => i);
    const find = (i: number): number => {
      while (parent[i] !== i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
      }
      return i;
    };
    const owners = new Map<string, number[]>();
    members.forEach((m, i) => {
      if (m.m_deleted) return;
      for (const t of m.m_keys) {
        const list = owners.get(t);
        if (list) list.push(i);
        else owners.set(t, [i]);
      }
    });
    members.forEach((m, i) => {
      if (m.m_deleted) return;
      for (const t of m.m_keys) {
        for (const j of owners.get(partnerToken(t)) ?? []) {
          const a = find(i);
          const b = find(j);
          if (a !== b) parent[a] = b;
        }
      }
    });
    const components = new Map<number, MemberRec[]>();
    members.forEach((m, i) => {
      const root = find(i);
      const list = components.get(root);
      if (list) list.push(m);
      else components.set(root, [m]);
    });
    const candidates = new Map<string, { members: MemberRec[]; entity: Entity; live: boolean }[]>();
    for (const group of components.values()) {
      const live = !group[0].m_deleted;
      if (live && this.s.version >= 2 && group.length > this.s.maxMerged) throw this.maxMergedError(group.length, group);
      const parts = group.map((m) => this.part(m)).sort(compareParts);
      const entity = combineParts(parts, this.s.combine, !live);
      const id = entity._id as string;
      const list = candidates.get(id);
      if (list) list.push({ members: group, entity, live });
      else candidates.set(id, [{ members: group, entity, live }]);
    }
    const outputs: GroupPlan['outputs'] = new Map();
    const groupOf = new Map<string, string>();
    for (const [id, list] of candidates) {
      const lives = list.filter((c) => c.live);
      if (lives.length > 1) {
        lives.sort((x, y) => compareParts(this.part(x.members[0]), this.part(y.members[0])));
        const who = lives.map((c) => `"${c.members[0].m_eid}" of dataset "${c.members[0].m_ds}"`).join(' and ');
        throw new Error(`${this.s.what}: the entities ${who} would both become the merged entity "${id}" without being merged (identity "${this.s.combine.identity}"); add an equality rule on "_id" or "$ids" between these datasets, or use identity "composite"`);
      }
      // A live group wins over deleted entities with the same id.
      const chosen = lives[0] ?? list[0];
      const all = list.flatMap((c) => c.members);
      outputs.set(id, { members: all.map((m) => m._id).sort(), entity: chosen.entity });
      for (const m of all) groupOf.set(m._id, id);
    }
    return { outputs, groupOf };
  }
}

export const mergeSource: SourceSpec = {
  kind: 'source',
  type: 'merge',
  doc: 'Merges entities from several datasets that equality rules identify as the same thing (transitively), incrementally: changes in any input dataset update, split, join or delete only the merged entities they affect, collecting the merged identities in $ids and emitting $replaced deletions for ids that are no longer used.',
  schema,
  create(component, ctx) {
    const config = component.config;
    const what = `pipe "${ctx.pipe.id}" (merge source)`;
    const inputs = parseDatasets(config.datasets, what);
    const rules = parseEquality(config, inputs, what, ctx.pipe.location, ctx.pipe.namespaces);
    const identity = config.identity === 'first' ? 'first' : 'composite';
    const strategy = config.strategy === 'compact' || config.strategy === 'list' ? config.strategy : 'default';
    const maxMerged = typeof config.max_merged === 'number' && config.max_merged > 0 ? config.max_merged : 50_000;
    const settings: MergeSettings = {
      what,
      inputs,
      rules,
      combine: { identity, strategy, includeInternal: config.include_internal_properties === true },
      version: config.version === 2 ? 2 : 1,
      maxMerged,
      stateDataset: mergeStateDataset(ctx.pipe.id),
      failWhenEmpty: config.if_source_empty === 'fail',
      fingerprint: createHash('sha1').update(JSON.stringify(config)).digest('hex'),
    };
    const datasets = inputs.map((d) => d.dataset);
    return {
      supportsSince: true,
      datasets,
      read({ since, batchSize, run }) {
        return new MergeRun(settings, ctx).read(since, batchSize, run);
      },
      isPopulated() {
        return inputsPopulated(ctx.store, config, datasets);
      },
    };
  },
};
