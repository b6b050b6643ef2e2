import { describe, expect, it } from 'vitest';
import { parseJsonWithPositions } from '../../compiler/parse/json.js';
import { parseYamlWithPositions } from '../../compiler/parse/yaml.js';
import { nodeAtPointer, toPlain } from '../../compiler/parse/tree.js';

describe('positioned parsing', () => {
  it('keeps line and column of every value', () => {
    const text = '{\n  "_id": "p",\n  "source": {\n    "type": "dataset",\n    "dataset": [1, 2.0]\n  }\n}';
    const { node, diagnostics } = parseJsonWithPositions(text, 'pipes/p.conf.json');
    expect(diagnostics).toEqual([]);
    expect(nodeAtPointer(node!, '/source/type').node.loc).toEqual({ file: 'pipes/p.conf.json', line: 4, column: 13 });
    expect(nodeAtPointer(node!, '/source/dataset/1').node).toMatchObject({ kind: 'number', text: '2.0', loc: { line: 5, column: 20 } });
    expect(toPlain(node!)).toEqual({ _id: 'p', source: { type: 'dataset', dataset: [1, 2] } });
  });

  it('reports a syntax error at the offending token', () => {
    const { node, diagnostics } = parseJsonWithPositions('{\n  "a": 1,\n  "b" 2\n}', 'x.json');
    expect(node).toBeUndefined();
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ file: 'x.json', line: 3, column: 7, code: 'CONFIG_SYNTAX' });
    expect(diagnostics[0].message).toBe("invalid JSON: unexpected number 2, expected ':'");
  });

  it('reports a truncated file at its end and a bad character where it is', () => {
    expect(parseJsonWithPositions('{"a": [1, 2', 'x.json').diagnostics[0]).toMatchObject({ line: 1, column: 12 });
    expect(parseJsonWithPositions('{"a": @}', 'x.json').diagnostics[0]).toMatchObject({ line: 1, column: 7, code: 'CONFIG_SYNTAX' });
  });

  it('flags duplicate keys', () => {
    const { diagnostics } = parseJsonWithPositions('{"a": 1,\n "a": 2}', 'x.json');
    expect(diagnostics[0]).toMatchObject({ code: 'CONFIG_DUPLICATE_KEY', line: 2, column: 2 });
  });

  it('reads YAML into the same model with positions', () => {
    const { node, diagnostics } = parseYamlWithPositions('_id: p\nsource:\n  type: dataset\n  ratio: 2.0\n', 'p.yaml');
    expect(diagnostics).toEqual([]);
    expect(nodeAtPointer(node!, '/source/type').node.loc).toEqual({ file: 'p.yaml', line: 3, column: 9 });
    expect(nodeAtPointer(node!, '/source/ratio').node).toMatchObject({ kind: 'number', text: '2.0' });
  });
});
