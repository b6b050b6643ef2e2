/**
 * Test data files read as a stream: `testdata/<pipe>.json` is split into its entities as it is
 * read, each entity goes through the client's Python round trip (see testdataBody), and the
 * entities reach the receiver a batch at a time, so that a large file never sits in memory whole
 * (an 11 MB file took a gigabyte as one body, its Python values and its entities at once).
 *
 * A file that is not an array of objects (one object, `null`, something invalid), or whose
 * entities the receiver refuses, is read again whole: the upload then reports exactly what posting
 * the whole body reports.
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { JsonEntitySplitter, JsonStreamError } from '../components/sources/json-stream.js';
import { settleHeap } from '../executor/heap-budget.js';
import { ReceiveError } from '../service/receiving.js';
import { testdataBody, type TestdataFile } from './project.js';
import { dumpsPy, parsePyJson, PyJsonError } from './pyjson.js';

/** Entities per posted batch. */
const BATCH = 1000;

/** Posts one request body (a JSON array text) and answers how many entities it held. */
export type PostBody = (body: string) => Promise<number>;

class NotStreamable extends Error {}

async function* entityTexts(path: string): AsyncGenerator<string> {
  const splitter = new JsonEntitySplitter();
  let sawArray = false;
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    if (!sawArray) {
      const first = /[^\s\ufeff]/.exec(chunk as string);
      if (first && first[0] !== '[') throw new NotStreamable();
      sawArray = first !== null;
    }
    yield* splitter.push(chunk as string);
  }
  splitter.end(false);
}

/**
 * Posts the entities of a test data file with `post`, in batches; answers the number posted, or
 * null when the file holds `null` (nothing to post).
 */
export async function postTestdata(dir: string, file: TestdataFile, post: PostBody): Promise<number | null> {
  let posted = 0;
  try {
    let batch: string[] = [];
    let batches = 0;
    for await (const text of entityTexts(join(dir, file.path))) {
      batch.push(dumpsPy(parsePyJson(text)));
      if (batch.length === BATCH) {
        posted += await post(`[${batch.join(', ')}]`);
        settleHeap();
        batches++;
        batch = [];
      }
    }
    // An empty array is posted too: the receiver's run still happens (and populates its sink).
    if (batch.length || batches === 0) posted += await post(`[${batch.join(', ')}]`);
    return posted;
  } catch (err) {
    if (!(err instanceof NotStreamable || err instanceof JsonStreamError || err instanceof PyJsonError || err instanceof ReceiveError)) throw err;
  }
  // The whole body, as the client posts it: its answer (or error) is the file's.
  const body = testdataBody(dir, file);
  return body === null ? null : post(body);
}
