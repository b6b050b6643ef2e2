/**
 * A dataset: counts, indexes, who writes and reads it, and the entity browser. The browser pages
 * through the latest versions by offset (`since`, `limit`) a page at a time as rows scroll into
 * view, so millions of entities never load at once; a search opens one entity by `_id`, with its
 * history and a diff between any two versions.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { ApiProblem, enc, get } from '../api';
import { Loading } from '../components/common';
import { JsonBlock } from '../components/JsonBlock';
import { lineDiff, stableJson } from '../diff';
import { count, localTime } from '../format';
import { useApi } from '../hooks';
import { Link, pipePath, setQuery, useLocation } from '../router';
import type { Dataset, Entity } from '../types';

const PAGE = 100;
const ROW = 32;

// `since` answers the versions after an offset; the first page has none, for the first version is offset 0.
const pageUrl = (id: string, deleted: boolean, since: number | null) =>
  `/datasets/${enc(id)}/entities?history=false&deleted=${deleted}${since === null ? '' : `&since=${since}`}&limit=${PAGE}`;

/** The first page, asked for together with the dataset (it needs nothing from it). */
let firstPage: { url: string; entities: Promise<Entity[]> } | null = null;
function fetchFirstPage(id: string, deleted: boolean): Promise<Entity[]> {
  const url = pageUrl(id, deleted, null);
  if (firstPage?.url !== url) firstPage = { url, entities: get<Entity[]>(url) };
  const { entities } = firstPage;
  // Used once: a later visit reads the dataset afresh.
  entities.finally(() => setTimeout(() => firstPage?.entities === entities && (firstPage = null), 1000));
  return entities;
}

export function DatasetPage({ id }: { id: string }) {
  const { query } = useLocation();
  const selected = query.get('entity');
  const showDeleted = query.get('deleted') !== '0';
  useState(() => fetchFirstPage(id, showDeleted).catch(() => undefined));
  const dataset = useApi<Dataset>(`/datasets/${enc(id)}`, 10000);
  const [search, setSearch] = useState(selected ?? '');
  if (!dataset.data) return <Loading error={dataset.error} what={`dataset ${id}`} />;
  const d = dataset.data;
  const r = d.runtime;
  return (
    <section>
      <h1>{id}</h1>
      <div className="cards">
        <div className="card">
          <span className="value">{count(r['count-index-exists'])}</span>
          <span className="label">entities</span>
        </div>
        <div className="card">
          <span className="value">{count(r['count-index-deleted'])}</span>
          <span className="label">deleted</span>
        </div>
        <div className="card">
          <span className="value">{count(r['count-log-exists'])}</span>
          <span className="label">versions</span>
        </div>
        <div className="card">
          <span className="value">{count(r['last-offset'])}</span>
          <span className="label">last offset</span>
        </div>
      </div>
      <dl className="kv panel">
        <dt>Written by</dt>
        <dd>{r['written-by'].length ? r['written-by'].map((p) => <Link key={p} to={pipePath(p)}>{p} </Link>) : '—'}</dd>
        <dt>Read by</dt>
        <dd>{r['read-by'].length ? r['read-by'].map((p) => <Link key={p} to={pipePath(p)}>{p} </Link>) : '—'}</dd>
        <dt>Joined (hops) by</dt>
        <dd>{r['hopped-by'].length ? r['hopped-by'].map((p) => <Link key={p} to={pipePath(p)}>{p} </Link>) : '—'}</dd>
        <dt>Indexes</dt>
        <dd>{d.storage.indexes.length ? d.storage.indexes.map((i) => <code key={i}>{i} </code>) : 'none'}</dd>
        <dt>Last modified</dt>
        <dd>{localTime(r['last-modified'])}</dd>
      </dl>
      <form
        className="toolbar"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery({ entity: search.trim() || null });
        }}
      >
        <label>
          Find by _id
          <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="entity _id" />
        </label>
        <button type="submit">Open</button>
        <label>
          <input type="checkbox" checked={showDeleted} onChange={(e) => setQuery({ deleted: e.target.checked ? null : '0' })} />
          Show deleted entities
        </label>
      </form>
      <div className="split">
        <EntityBrowser key={`${id}-${showDeleted}-${r['last-offset']}`} id={id} total={r['count-index-exists'] + (showDeleted ? r['count-index-deleted'] : 0)} lastOffset={r['last-offset']} deleted={showDeleted} selected={selected} />
        {selected ? <EntityDetail key={selected} dataset={id} entityId={selected} /> : <p className="muted">Pick an entity to see it and its history.</p>}
      </div>
    </section>
  );
}

function EntityBrowser({ id, total, lastOffset, deleted, selected }: { id: string; total: number; lastOffset: number; deleted: boolean; selected: string | null }) {
  const [pages, setPages] = useState<Map<number, Entity[]>>(new Map());
  const pending = useRef(new Set<number>());
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({ count: total, getScrollElement: () => scroller.current, estimateSize: () => ROW, overscan: 20, initialRect: { width: 600, height: 500 } });
  const items = virtual.getVirtualItems();

  const load = useCallback(
    (page: number) => {
      if (pending.current.has(page)) return;
      pending.current.add(page);
      const previous = pages.get(page - 1);
      // Chained from the page before when it is loaded; estimated from the offset range otherwise.
      const since = page === 0 ? 0 : previous?.length ? (previous[previous.length - 1]._updated ?? 0) : Math.floor((page * PAGE * lastOffset) / Math.max(total, 1));
      (page === 0 ? fetchFirstPage(id, deleted) : get<Entity[]>(pageUrl(id, deleted, since)))
        .then((entities) => setPages((m) => new Map(m).set(page, entities)))
        .catch(() => pending.current.delete(page));
    },
    [id, deleted, lastOffset, total, pages],
  );

  const first = items.length ? Math.floor(items[0].index / PAGE) : 0;
  const last = items.length ? Math.floor(items[items.length - 1].index / PAGE) : 0;
  useEffect(() => {
    for (let p = first; p <= last; p++) if (!pages.has(p)) load(p);
  }, [first, last, pages, load]);

  if (total === 0) return <p className="muted">This dataset has no entities.</p>;
  return (
    <div role="table" aria-label="Entities" aria-rowcount={total + 1} className="vlist" ref={scroller} data-testid="entities-table">
      <div role="rowgroup">
        <div role="row" className="vrow header entities-grid" style={{ height: ROW }}>
          <span role="columnheader" className="cell">_id</span>
          <span role="columnheader" className="cell">Offset</span>
          <span role="columnheader" className="cell">State</span>
        </div>
      </div>
      <div role="rowgroup" style={{ height: virtual.getTotalSize(), position: 'relative' }}>
        {items.map((item) => {
          const e = pages.get(Math.floor(item.index / PAGE))?.[item.index % PAGE];
          return (
            <div role="row" aria-rowindex={item.index + 2} key={item.key} className={`vrow entities-grid${e && e._id === selected ? ' selected' : ''}`} style={{ top: item.start, height: ROW }}>
              <span role="cell" className="cell">
                {e ? (
                  <button type="button" className="linklike" onClick={() => setQuery({ entity: e._id })}>
                    {e._id}
                  </button>
                ) : (
                  <span className="muted">…</span>
                )}
              </span>
              <span role="cell" className="cell">{e?._updated ?? ''}</span>
              <span role="cell" className="cell">{e?._deleted ? <span className="badge disabled">deleted</span> : ''}</span>
            </div>
          );
        })}
      </div>
    </div>
  );
}

function EntityDetail({ dataset, entityId }: { dataset: string; entityId: string }) {
  const [versions, setVersions] = useState<Entity[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [left, setLeft] = useState(0);
  const [right, setRight] = useState(0);
  useEffect(() => {
    get<Entity[]>(`/studio/datasets/${enc(dataset)}/history?entity_id=${enc(entityId)}`)
      .then((v) => {
        setVersions(v);
        setRight(v.length - 1);
        setLeft(Math.max(0, v.length - 2));
      })
      .catch((e) => setError(e instanceof ApiProblem && e.status === 404 ? `No entity "${entityId}" in this dataset.` : String(e.message)));
  }, [dataset, entityId]);
  if (error) return <p className="notice bad">{error}</p>;
  if (!versions) return <p className="muted">Loading…</p>;
  const latest = versions[versions.length - 1];
  const label = (v: Entity, i: number) => `version ${i + 1}, offset ${v._updated}${v._deleted ? ' (deleted)' : ''}${v._ts ? `, ${localTime(new Date(v._ts / 1000).toISOString())}` : ''}`;
  return (
    <div className="panel" data-testid="entity-detail">
      <h2>
        {entityId} {latest._deleted ? <span className="badge disabled">deleted</span> : null}
      </h2>
      <JsonBlock value={latest} label={`Latest version of ${entityId}`} />
      <h3>History ({versions.length} version{versions.length === 1 ? '' : 's'})</h3>
      {versions.length > 1 ? (
        <>
          <div className="toolbar">
            <label>
              Compare
              <select value={left} onChange={(e) => setLeft(Number(e.target.value))}>
                {versions.map((v, i) => (
                  <option key={i} value={i}>
                    {label(v, i)}
                  </option>
                ))}
              </select>
            </label>
            <label>
              with
              <select value={right} onChange={(e) => setRight(Number(e.target.value))}>
                {versions.map((v, i) => (
                  <option key={i} value={i}>
                    {label(v, i)}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <VersionDiff before={versions[left]} after={versions[right]} />
        </>
      ) : (
        <p className="muted">Only one version is stored.</p>
      )}
    </div>
  );
}

/** Reserved fields every version has differently; left out of the diff. */
const BOOKKEEPING = new Set(['_updated', '_ts', '_previous', '_hash']);

function VersionDiff({ before, after }: { before: Entity; after: Entity }) {
  const strip = (e: Entity) => Object.fromEntries(Object.entries(e).filter(([k]) => !BOOKKEEPING.has(k)));
  const lines = lineDiff(stableJson(strip(before)), stableJson(strip(after)));
  return (
    <pre tabIndex={0} aria-label="Differences between the two versions" data-testid="version-diff">
      {lines.map((l, i) => (
        <div key={i} className={`diff-line ${l.kind}`}>
          {l.kind === 'added' ? '+ ' : l.kind === 'removed' ? '- ' : '  '}
          {l.text}
        </div>
      ))}
    </pre>
  );
}
