import { afterEach, describe, expect, it } from 'vitest';
import { unzipSync } from 'fflate';
import { columnName } from '../../runtime/service/xlsx.js';
import { people, runViaApi, startTestApi, type TestApi } from './support.js';

let api: TestApi;
afterEach(async () => api?.close());

const report = {
  _id: 'report',
  type: 'pipe',
  source: { type: 'dataset', dataset: 'people' },
  transform: { type: 'dtl', rules: { default: [['copy', '*'], ['add', 'n', ['length', '_S.name']]] } },
  sink: { type: 'csv_endpoint', columns: ['_id', 'name', 'n'] },
};

describe('the Excel publisher', () => {
  it('serves the csv_endpoint output as an xlsx workbook with the same columns', async () => {
    api = await startTestApi();
    await api.call('PUT', '/api/config', { body: [{ ...people, source: { type: 'embedded', entities: [{ _id: 'a', name: 'Ada & <Co>' }, { _id: 'b', name: 'Bo' }] } }, report] });
    await runViaApi(api, 'people');
    const res = await fetch(`${api.base}/api/publishers/report/excel/people.xlsx?limit=5`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="people.xlsx"');
    const files = unzipSync(new Uint8Array(await res.arrayBuffer()));
    expect(Object.keys(files).sort()).toEqual(['[Content_Types].xml', '_rels/.rels', 'xl/_rels/workbook.xml.rels', 'xl/workbook.xml', 'xl/worksheets/sheet1.xml']);
    const sheet = new TextDecoder().decode(files['xl/worksheets/sheet1.xml']);
    const rows = [...sheet.matchAll(/<row r="(\d+)">(.*?)<\/row>/g)].map((m) => [...m[2].matchAll(/<c r="([A-Z]+\d+)"(?: t="inlineStr")?>(?:<v>([^<]*)<\/v>|<is><t[^>]*>([^<]*)<\/t><\/is>)<\/c>/g)].map((c) => c[2] ?? c[3]));
    expect(rows).toEqual([
      ['_id', 'name', 'n'],
      ['a', 'Ada &amp; &lt;Co&gt;', '10'],
      ['b', 'Bo', '2'],
    ]);
    expect(sheet).toContain('<c r="C2"><v>10</v></c>');

    expect((await api.call('GET', '/api/publishers/people/excel')).status).toBe(404);
    expect((await api.call('GET', '/api/publishers/nope/excel')).status).toBe(404);
    expect((await api.call('GET', '/api/publishers/report/excel?limit=-1')).status).toBe(400);
    expect((await api.call('OPTIONS', '/api/publishers/report/excel/')).status).toBe(200);
  });

  it('names columns like a spreadsheet', () => {
    expect([0, 25, 26, 51, 52, 701, 702].map(columnName)).toEqual(['A', 'Z', 'AA', 'AZ', 'BA', 'ZZ', 'AAA']);
  });
});
