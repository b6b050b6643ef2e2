/**
 * Config: the config files. When the runtime holds its own config (`sluice run`, uploads), files
 * can be edited, added and removed, with the compiler's diagnostics as you type and an impact
 * preview before saving; saving uploads the whole config as a zip in the folder layout (PUT
 * /api/config), so that file names and positions stay as they are. A runtime of the operator runs
 * a plan from git: the Studio says where it came from and shows the config read-only.
 */
import { useEffect, useMemo, useState } from 'react';
import { zipSync, strToU8 } from 'fflate';
import { post, put } from '../api';
import { ConfigEditor } from '../components/ConfigEditor';
import { Diagnostics, Loading, problemText } from '../components/common';
import { ImpactView } from '../components/ImpactView';
import { JsonBlock } from '../components/JsonBlock';
import { useApi, useDebounced } from '../hooks';
import { setQuery, useLocation } from '../router';
import type { StudioConfig, Validation } from '../types';

type Message = { ok: boolean; text: string } | null;

export function ConfigPage() {
  const config = useApi<StudioConfig>('/studio/config');
  // Kept here: the editor starts afresh after a save.
  const [message, setMessage] = useState<Message>(null);
  if (!config.data) return <Loading error={config.error} what="the config" />;
  const c = config.data;
  if (c.source.kind === 'plan') return <ManagedConfig config={c} />;
  return <EditableConfig key={c.plan?.hash ?? 'none'} config={c} reload={config.reload} message={message} setMessage={setMessage} />;
}

function ManagedConfig({ config }: { config: StudioConfig }) {
  const s = config.source as Extract<StudioConfig['source'], { kind: 'plan' }>;
  const pipes = useApi<{ _id: string; config: { original: unknown } }[]>('/pipes');
  return (
    <section>
      <h1>Config</h1>
      <p className="notice" data-testid="config-origin">
        This runtime runs a plan deployed by the Sluice operator. The config lives in git
        {s.repository ? (
          <>
            {' '}
            at <code>{s.repository}</code>
          </>
        ) : null}
        {s.path ? (
          <>
            , folder <code>{s.path}</code>
          </>
        ) : null}
        {s.ref ? (
          <>
            , ref <code>{s.ref}</code>
          </>
        ) : null}
        , commit <code>{s.revision ?? 'unknown'}</code>. Change it there (or with Pipe and System resources); it is read-only here.
      </p>
      <p className="muted">Plan {config.plan?.hash.slice(0, 12)}: {config.plan?.pipes} pipes, {config.plan?.systems} systems.</p>
      {pipes.data?.map((p) => (
        <details key={p._id}>
          <summary>{p._id}</summary>
          <JsonBlock value={p.config.original} label={`Config of ${p._id}`} />
        </details>
      ))}
    </section>
  );
}

function EditableConfig({ config, reload, message, setMessage }: { config: StudioConfig; reload: () => void; message: Message; setMessage: (m: Message) => void }) {
  const { query } = useLocation();
  const original = useMemo(() => new Map(config.files.map((f) => [f.path, f.text])), [config]);
  const [edits, setEdits] = useState<Map<string, string>>(new Map());
  const [removed, setRemoved] = useState<Set<string>>(new Set());
  const [newName, setNewName] = useState('');
  const paths = [...new Set([...original.keys(), ...edits.keys()])].filter((p) => !removed.has(p)).sort();
  const current = query.get('file') && paths.includes(query.get('file')!) ? query.get('file')! : paths[0];
  const textOf = (p: string) => edits.get(p) ?? original.get(p) ?? '';
  const changed = [...edits.entries()].filter(([p, t]) => original.get(p) !== t && !removed.has(p));
  const dirty = changed.length > 0 || removed.size > 0;
  const request = useDebounced(JSON.stringify({ files: changed.map(([path, text]) => ({ path, text })), removed: [...removed] }), 300);
  const [validation, setValidation] = useState<Validation | null>(null);
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    let cancelled = false;
    post<Validation>('/studio/validate', JSON.parse(request))
      .then((v) => !cancelled && setValidation(v))
      .catch((e) => !cancelled && setMessage({ ok: false, text: problemText(e) }));
    return () => {
      cancelled = true;
    };
  }, [request]);

  const save = async () => {
    setSaving(true);
    try {
      const entries: Record<string, Uint8Array> = {};
      for (const p of paths) entries[p] = strToU8(textOf(p));
      await put('/config?force=false', zipSync(entries) as BodyInit, 'application/zip');
      setMessage({ ok: true, text: 'Saved. The runtime runs the new config.' });
      setEdits(new Map());
      setRemoved(new Set());
      reload();
    } catch (e) {
      setMessage({ ok: false, text: problemText(e) });
    } finally {
      setSaving(false);
    }
  };

  const diagnostics = validation?.diagnostics ?? [];
  return (
    <section>
      <h1>Config</h1>
      <p className="muted">
        {config.files.length} files, plan {config.plan?.hash.slice(0, 12) ?? 'none'}. Edits are checked as you type; saving writes the config through the API (with <code>sluice run</code>, into the config folder).
      </p>
      {config.pending_config_errors.length > 0 && (
        <div className="notice bad">
          The config files have errors the runtime refused; the previous config keeps running.
          <Diagnostics items={config.pending_config_errors} />
        </div>
      )}
      <div className="split" style={{ gridTemplateColumns: 'minmax(12rem, 0.35fr) minmax(0, 1.65fr)' }}>
        <nav aria-label="Config files" className="panel">
          <ul className="legend">
            {paths.map((p) => {
              const errors = diagnostics.filter((d) => d.file === p && d.severity === 'error').length;
              return (
                <li key={p}>
                  <button type="button" className="linklike" aria-current={p === current ? 'true' : undefined} onClick={() => setQuery({ file: p })}>
                    {p === current ? <strong>{p}</strong> : p}
                  </button>
                  {edits.has(p) && original.get(p) !== edits.get(p) ? ' (edited)' : ''}
                  {errors ? <span className="badge error"> {errors} error{errors === 1 ? '' : 's'}</span> : null}
                </li>
              );
            })}
          </ul>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              const name = newName.trim().replace(/\.conf\.json$/, '');
              if (!/^[\w.:-]+$/.test(name)) return;
              const path = `pipes/${name}.conf.json`;
              setEdits((m) => new Map(m).set(path, JSON.stringify({ _id: name, type: 'pipe', source: { type: 'embedded', entities: [] } }, null, 2) + '\n'));
              setNewName('');
              setQuery({ file: path });
            }}
          >
            <label htmlFor="new-pipe">New pipe</label>
            <div className="toolbar">
              <input id="new-pipe" value={newName} onChange={(e) => setNewName(e.target.value)} placeholder="pipe id" size={14} />
              <button type="submit" className="secondary">
                Add
              </button>
            </div>
          </form>
        </nav>
        <div>
          {current && (
            <>
              <div className="toolbar">
                <h2 style={{ margin: 0 }}>{current}</h2>
                <button type="button" className="danger" onClick={() => setRemoved((s) => new Set(s).add(current))}>
                  Remove file
                </button>
              </div>
              <ConfigEditor key={current} label={`Config file ${current}`} text={textOf(current)} diagnostics={diagnostics.filter((d) => d.file === current)} onChange={(t) => setEdits((m) => new Map(m).set(current, t))} />
            </>
          )}
          <p aria-live="polite" data-testid="validation-summary" className={validation && !validation.ok ? 'error-text' : 'muted'}>
            {validation ? (validation.ok ? `No errors${validation.warnings ? `, ${validation.warnings} warning(s)` : ''}` : `${validation.errors} error(s), ${validation.warnings} warning(s)`) : 'Checking…'}
          </p>
          <Diagnostics items={diagnostics} />
          {dirty && validation?.impact && <ImpactView impact={validation.impact} />}
          <div className="ops">
            <button type="button" disabled={!dirty || saving || !validation?.ok} onClick={save}>
              Save
            </button>
            <button
              type="button"
              className="secondary"
              disabled={!dirty}
              onClick={() => {
                setEdits(new Map());
                setRemoved(new Set());
              }}
            >
              Discard changes
            </button>
          </div>
          {message && (
            <p className={`notice ${message.ok ? 'good' : 'bad'} diff`} role="status">
              {message.text}
            </p>
          )}
        </div>
      </div>
    </section>
  );
}
