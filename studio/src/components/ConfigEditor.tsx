/**
 * A CodeMirror 6 editor for one config file, showing the compiler's diagnostics inline (the same
 * codes and positions as `sluice validate`), as the parent gets them from the API.
 */
import { useEffect, useRef } from 'react';
import { EditorView, basicSetup } from 'codemirror';
import { EditorState } from '@codemirror/state';
import { json } from '@codemirror/lang-json';
import { lintGutter, setDiagnostics, type Diagnostic as CmDiagnostic } from '@codemirror/lint';
import { keymap } from '@codemirror/view';
import type { Diagnostic } from '../types';

export interface ConfigEditorProps {
  /** A name for assistive technology, e.g. "Config of pipe person". */
  label: string;
  text: string;
  readOnly?: boolean;
  diagnostics: Diagnostic[];
  onChange?: (text: string) => void;
  /** Ctrl/Cmd+Enter (Sesam's preview shortcut). */
  onRun?: () => void;
}

function toCm(state: EditorState, diagnostics: Diagnostic[]): CmDiagnostic[] {
  const doc = state.doc;
  return diagnostics.map((d) => {
    const line = doc.line(Math.min(Math.max(1, d.line), doc.lines));
    const from = Math.min(line.from + Math.max(0, d.column - 1), line.to);
    // Underline the token at the position (up to the next delimiter).
    const rest = doc.sliceString(from, line.to);
    const m = /^("(?:[^"\\]|\\.)*"|[^\s,:\]}]+)/.exec(rest);
    const to = Math.max(from + (m ? m[0].length : 1), from);
    return { from, to: Math.min(to, line.to === from ? from : line.to), severity: d.severity === 'info' ? 'info' : d.severity, message: `${d.code} ${d.message}`, source: `${d.file}:${d.line}:${d.column}` };
  });
}

export function ConfigEditor({ label, text, readOnly, diagnostics, onChange, onRun }: ConfigEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const handlers = useRef({ onChange, onRun });
  /** Set while the text is replaced from outside, which is no edit of the user's. */
  const replacing = useRef(false);
  handlers.current = { onChange, onRun };

  useEffect(() => {
    const v = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: text,
        extensions: [
          keymap.of([{ key: 'Mod-Enter', run: () => (handlers.current.onRun?.(), true) }]),
          basicSetup,
          json(),
          lintGutter(),
          EditorState.readOnly.of(readOnly === true),
          EditorView.editable.of(readOnly !== true),
          EditorView.contentAttributes.of({ 'aria-label': label }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged && !replacing.current) handlers.current.onChange?.(u.state.doc.toString());
          }),
        ],
      }),
    });
    // The scroller takes keyboard focus too (a read-only editor has no focusable content, and
    // checkers do not count the editable content as a way to scroll).
    v.scrollDOM.tabIndex = 0;
    view.current = v;
    return () => v.destroy();
    // The editor is created once per file; later text changes come from the user.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [label, readOnly]);

  // Text replaced from outside (a reload after save).
  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== text) {
      replacing.current = true;
      v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: text } });
      replacing.current = false;
    }
  }, [text]);

  useEffect(() => {
    const v = view.current;
    if (v) v.dispatch(setDiagnostics(v.state, toCm(v.state, diagnostics)));
  }, [diagnostics]);

  return <div className="editor" ref={host} data-testid="config-editor" />;
}
