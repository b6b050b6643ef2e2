/**
 * The Config tab of a pipe: its config file in the editor with the compiler's diagnostics as you
 * type, the impact of saving it, saving (the per-pipe config API), and Sesam's preview: a source
 * entity (picked from the source or pasted) through the pipe's transforms.
 */
import { useEffect, useMemo, useState } from 'react';
import { enc, get, post, put } from '../api';
import { useApi, useDebounced } from '../hooks';
import type { Entity, Json, Pipe, StudioConfig, Validation } from '../types';
import { ConfigEditor } from './ConfigEditor';
import { Diagnostics, Loading, problemText } from './common';
import { ImpactView } from './ImpactView';
import { Link } from '../router';

interface PreviewStep {
  transform: number;
  type: string;
  errors: string[];
  entities: Entity[];
}

interface PreviewResult {
  source: Entity[];
  steps: PreviewStep[];
}

type Rules = Record<string, unknown[]>;

/** Names of the rules that `create` statements of the default rule apply (who makes the children). */
function creatingRules(rules: Rules | undefined): string[] {
  const names = new Set<string>();
  const walk = (x: unknown, inCreate: boolean) => {
    if (!Array.isArray(x)) return;
    const [head, ...rest] = x;
    const create = inCreate || head === 'create';
    if (create && (head === 'apply' || head === 'apply-hops') && typeof rest[0] === 'string') names.add(rest[0]);
    for (const r of rest) walk(r, create);
  };
  for (const stmt of rules?.default ?? []) walk(stmt, false);
  return [...names];
}

/** Which rule produced each output entity of a DTL step for one source entity. */
function ruleLabels(entities: Entity[], rules: Rules | undefined): string[] {
  const creators = creatingRules(rules);
  const created = creators.length ? `created by rule "${creators.join('", "')}"` : 'created by "create"';
  return entities.map((e, i) => {
    if (i < entities.length - 1) return created;
    if (e._filtered === true) return 'filtered out by the "default" rule';
    return 'rule "default"';
  });
}

/** A source entity as a user would paste it: the dataset's own bookkeeping fields left out. */
function withoutBookkeeping(e: Entity): Entity {
  const { _updated: _u, _ts: _t, _hash: _h, _previous: _p, ...rest } = e as Entity & { _hash?: string };
  return rest as Entity;
}

function transformsOf(config: Json): Json[] {
  const t = config.transform;
  return Array.isArray(t) ? (t as Json[]) : t ? [t as Json] : [];
}

type Message = { ok: boolean; text: string } | null;

export function PipeConfig({ pipe, onSaved }: { pipe: Pipe; onSaved: () => void }) {
  const config = useApi<StudioConfig>('/studio/config');
  // Kept here: the editor below starts afresh with the saved text.
  const [saveMessage, setSaveMessage] = useState<Message>(null);
  if (!config.data) return <Loading error={config.error} what="the config" />;
  const entry = config.data.entities.find((e) => e.id === pipe._id);
  const file = entry ? config.data.files.find((f) => f.path === entry.file) : undefined;
  const shared = file ? config.data.entities.filter((e) => e.file === file.path).length > 1 : false;
  const editable = config.data.source.editable && !shared;
  const path = file?.path ?? `pipes/${pipe._id}.conf.json`;
  const text = file?.text ?? JSON.stringify(pipe.config.original, null, 2) + '\n';
  return <PipeConfigEditor key={`${path}\n${text}`} pipe={pipe} path={path} initial={text} editable={editable} shared={shared} managed={!config.data.source.editable} onSaved={() => (config.reload(), onSaved())} saveMessage={saveMessage} setSaveMessage={setSaveMessage} />;
}

interface EditorProps {
  pipe: Pipe;
  path: string;
  initial: string;
  editable: boolean;
  shared: boolean;
  managed: boolean;
  onSaved: () => void;
  saveMessage: Message;
  setSaveMessage: (m: Message) => void;
}

function PipeConfigEditor({ pipe, path, initial, editable, shared, managed, onSaved, saveMessage, setSaveMessage }: EditorProps) {
  const [text, setText] = useState(initial);
  const edit = (t: string) => {
    setText(t);
    setSaveMessage(null);
  };
  const debounced = useDebounced(text, 300);
  const [validation, setValidation] = useState<Validation | null>(null);
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    let cancelled = false;
    post<Validation>('/studio/validate', { files: [{ path, text: debounced }] })
      .then((v) => !cancelled && setValidation(v))
      .catch((e) => !cancelled && setSaveMessage({ ok: false, text: problemText(e) }));
    return () => {
      cancelled = true;
    };
  }, [debounced, path]);

  const here = useMemo(() => (validation?.diagnostics ?? []).filter((d) => d.file === path), [validation, path]);
  const elsewhere = useMemo(() => (validation?.diagnostics ?? []).filter((d) => d.file !== path), [validation, path]);
  const dirty = text !== initial;

  const save = async () => {
    setSaving(true);
    try {
      await put(`/pipes/${enc(pipe._id)}/config`, text, 'application/json');
      setSaveMessage({ ok: true, text: 'Saved. The runtime runs the new config.' });
      onSaved();
    } catch (e) {
      setSaveMessage({ ok: false, text: problemText(e) });
    } finally {
      setSaving(false);
    }
  };

  return (
    <div className="split">
      <div>
        {managed && <p className="notice">This runtime runs a plan deployed by the operator from git: the config is read-only here.</p>}
        {shared && !managed && (
          <p className="notice">
            <code>{path}</code> holds several config entities: edit it on the <Link to="/config">Config</Link> page.
          </p>
        )}
        <ConfigEditor label={`Config of pipe ${pipe._id} (${path})`} text={initial} readOnly={!editable} diagnostics={here} onChange={edit} />
        <p aria-live="polite" data-testid="validation-summary" className={validation && !validation.ok ? 'error-text' : 'muted'}>
          {validation ? (validation.ok ? `No errors${validation.warnings ? `, ${validation.warnings} warning(s)` : ''}` : `${validation.errors} error(s), ${validation.warnings} warning(s)`) : 'Checking…'}
        </p>
        <Diagnostics items={here} />
        {elsewhere.length > 0 && (
          <>
            <h3>Problems this change causes in other files</h3>
            <Diagnostics items={elsewhere} />
          </>
        )}
        {editable && dirty && validation?.impact && <ImpactView impact={validation.impact} />}
        {editable && (
          <div className="ops">
            <button type="button" disabled={!dirty || saving || !validation?.ok} onClick={save}>
              Save
            </button>
            <button type="button" className="secondary" disabled={!dirty} onClick={() => edit(initial)}>
              Discard changes
            </button>
          </div>
        )}
        {saveMessage && (
          <p className={`notice ${saveMessage.ok ? 'good' : 'bad'} diff`} role="status">
            {saveMessage.text}
          </p>
        )}
      </div>
      <Preview pipe={pipe} path={path} configText={text} />
    </div>
  );
}

function Preview({ pipe, path, configText }: { pipe: Pipe; path: string; configText: string }) {
  const [samples, setSamples] = useState<Entity[] | null>(null);
  const [input, setInput] = useState('');
  const [result, setResult] = useState<PreviewResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    get<Entity[]>(`/pipes/${enc(pipe._id)}/entities?stage=source&limit=20`)
      .then((es) => {
        setSamples(es);
        if (es.length) setInput(JSON.stringify(withoutBookkeeping(es[0]), null, 2));
      })
      .catch(() => setSamples([]));
  }, [pipe._id]);

  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      setResult(await post<PreviewResult>(`/studio/pipes/${enc(pipe._id)}/preview`, { config: configText, path, entities: input }));
    } catch (e) {
      setResult(null);
      setError(problemText(e));
    } finally {
      setBusy(false);
    }
  };

  let parsedConfig: Json | null = null;
  try {
    parsedConfig = JSON.parse(configText) as Json;
  } catch {
    parsedConfig = null;
  }
  const transforms = parsedConfig ? transformsOf(parsedConfig) : [];

  return (
    <div className="panel" onKeyDown={(e) => e.key === 'Enter' && (e.ctrlKey || e.metaKey) && void run()}>
      <h2>Preview (Ctrl+Enter)</h2>
      {samples && samples.length > 0 && (
        <label className="toolbar">
          Source entity
          <select onChange={(e) => setInput(JSON.stringify(withoutBookkeeping(samples[Number(e.target.value)]), null, 2))}>
            {samples.map((s, i) => (
              <option key={i} value={i}>
                {String(s._id)}
              </option>
            ))}
          </select>
        </label>
      )}
      <label htmlFor="preview-input">Source entity (JSON; edit or paste one)</label>
      <textarea id="preview-input" className="mono" rows={10} style={{ width: '100%' }} value={input} onChange={(e) => setInput(e.target.value)} spellCheck={false} />
      <div className="ops">
        <button type="button" onClick={run} disabled={busy || input.trim() === ''}>
          Preview
        </button>
      </div>
      {error && (
        <p className="notice bad diff" role="alert">
          {error}
        </p>
      )}
      {result && (
        <div data-testid="preview-result">
          {result.steps.length === 0 && <p className="muted">The pipe has no transforms: the sink receives the source entity as it is.</p>}
          {result.steps.map((s) => {
            const rules = s.type === 'dtl' ? (transforms[s.transform]?.rules as Rules | undefined) : undefined;
            const labels = s.type === 'dtl' ? ruleLabels(s.entities, rules) : s.entities.map(() => `transform ${s.transform + 1} (${s.type})`);
            return (
              <div key={s.transform}>
                <h3>
                  Transform {s.transform + 1}: {s.type}
                </h3>
                {s.errors.map((e, i) => (
                  <p key={i} className="error-text">
                    {e}
                  </p>
                ))}
                {s.entities.length === 0 && !s.errors.length && <p className="muted">No entity comes out (discarded).</p>}
                {s.entities.map((e, i) => (
                  <div key={i}>
                    <p className="muted">
                      Result {i + 1}: {labels[i]}
                    </p>
                    <pre tabIndex={0} aria-label={`Preview result ${i + 1}`}>
                      {JSON.stringify(e, null, 2)}
                    </pre>
                  </div>
                ))}
              </div>
            );
          })}
        </div>
      )}
    </div>
  );
}
