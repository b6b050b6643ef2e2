/**
 * The SMTP system and the mail sink against a real SMTP server (the smtp-server library) on a
 * private port: every documented option, refused logins and recipients, temporary failures, an
 * unreachable server and a server that never answers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startSmtpServer, type TestSmtpServer } from '../../scripts/test-services/smtp.js';
import { freePort } from '../../scripts/test-services/ports.js';
import { SmtpClient, SmtpError } from '../../runtime/components/systems/smtp.js';
import type { SluiceRuntime } from '../../runtime/service/runtime.js';
import { configure, openRuntime } from '../support/runtime.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function server(options: Parameters<typeof startSmtpServer>[0] = {}): Promise<TestSmtpServer> {
  const s = await startSmtpServer(options);
  cleanups.push(() => s.close());
  return s;
}

async function runtime(): Promise<SluiceRuntime> {
  const rt = await openRuntime();
  cleanups.push(() => rt.close());
  return rt;
}

const smtp = (port: number, extra: Record<string, unknown> = {}) => ({ _id: 'mailer', type: 'system:smtp', smtp_server: '127.0.0.1', smtp_port: port, ...extra });

function pipe(entities: Record<string, unknown>[], sink: Record<string, unknown>, pump: Record<string, unknown> = {}) {
  return { _id: 'notify', type: 'pipe', source: { type: 'embedded', entities }, sink: { type: 'mail', system: 'mailer', mail_from: 'robot@example.org', ...sink }, pump };
}

const people = [
  { _id: 'ada', name: 'Ada', email: 'ada@example.org', topic: 'engines' },
  { _id: 'grace', name: 'Grace', email: 'grace@example.org', topic: 'compilers' },
];

describe('the mail sink', () => {
  it('renders the subject and body templates with the entity properties and sends one message per entity', async () => {
    const s = await server();
    const rt = await runtime();
    await configure(rt, [smtp(s.port), pipe(people, { subject_template: 'Hello {{ name }}', body_template: 'Dear {{ name }}, news about {{ topic | upper }}.', recipients: 'list@example.org, boss@example.org' })]);
    const out = await rt.runPipe('notify');
    expect(out.status).toBe('completed');
    expect(out.written).toBe(2);
    expect(s.messages.map((m) => m.subject).sort()).toEqual(['Hello Ada', 'Hello Grace']);
    const ada = s.messages.find((m) => m.subject === 'Hello Ada')!;
    expect(ada.text).toBe('Dear Ada, news about ENGINES.');
    expect(ada.html).toBeUndefined();
    expect(ada.to).toEqual(['list@example.org', 'boss@example.org']);
    expect(ada.from).toBe('robot@example.org');
    expect(ada.secure).toBe(false);
  });

  it('takes templates and recipients from entity properties (default and named properties)', async () => {
    const s = await server();
    const rt = await runtime();
    const entities = [
      { _id: '1', subject_template: 'Order {{ _id }}', body_template: 'Total: {{ total }}', recipients: ['a@example.org', 'b@example.org'], total: 12 },
      { _id: '2', subject_template: 'Order {{ _id }}', body_template: 'Total: {{ total }}', recipients: 'c@example.org', total: 7 },
    ];
    await configure(rt, [smtp(s.port), pipe(entities, {})]);
    expect((await rt.runPipe('notify')).written).toBe(2);
    expect(s.messages.map((m) => [m.subject, m.text, m.to]).sort()).toEqual([
      ['Order 1', 'Total: 12', ['a@example.org', 'b@example.org']],
      ['Order 2', 'Total: 7', ['c@example.org']],
    ]);

    const s2 = await server();
    const rt2 = await runtime();
    const named = [{ _id: 'x', subj: 'S {{ n }}', html: '<p>B {{ n }}</p>', plain: 'T {{ n }}', who: 'x@example.org', n: 1 }];
    await configure(rt2, [
      smtp(s2.port),
      pipe(named, { subject_template_property: 'subj', body_template_property: 'html', text_body_template_property: 'plain', recipients_property: 'who' }),
    ]);
    expect((await rt2.runPipe('notify')).written).toBe(1);
    expect(s2.messages[0]).toMatchObject({ subject: 'S 1', html: '<p>B 1</p>', text: 'T 1', to: ['x@example.org'] });
  });

  it('sends HTML bodies as multipart messages, with a text part from text_body_template or extracted from the HTML', async () => {
    const s = await server();
    const rt = await runtime();
    await configure(rt, [
      smtp(s.port),
      pipe([{ _id: 'a', name: 'Ada' }], {
        subject_template: 'Hi',
        body_template: '<html><body><h1>Hello {{ name }}</h1><p>Read <a href="https://example.org/x">this</a> &amp; that.</p></body></html>',
        recipients: 'a@example.org',
      }),
    ]);
    await rt.runPipe('notify');
    expect(s.messages[0].html).toContain('<h1>Hello Ada</h1>');
    expect(s.messages[0].headers['content-type']).toMatch(/^multipart\/alternative/);
    expect(s.messages[0].text).toBe('Hello Ada\nRead this (https://example.org/x) & that.');

    const s2 = await server();
    const rt2 = await runtime();
    await configure(rt2, [smtp(s2.port), pipe([{ _id: 'a', name: 'Ada' }], { subject_template: 'Hi', body_template: '<b>{{ name }}</b>', text_body_template: 'plain {{ name }}', recipients: 'a@example.org' })]);
    await rt2.runPipe('notify');
    expect(s2.messages[0]).toMatchObject({ html: '<b>Ada</b>', text: 'plain Ada' });
  });

  it('handles undefined template variables as unhandled_template_variable_replacement says', async () => {
    const sink = { subject_template: 'About {{ topic }}', body_template: 'Hello {{ name }}, {{ nickname }}!', recipients: 'a@example.org' };
    const send = async (mode?: string) => {
      const s = await server();
      const rt = await runtime();
      await configure(rt, [smtp(s.port), pipe([{ _id: 'a', name: 'Ada', topic: 'x' }, { _id: 'b', name: 'Bo', topic: 'y', nickname: 'B' }], mode ? { ...sink, unhandled_template_variable_replacement: mode } : sink, { max_consecutive_write_errors: 5 })]);
      const out = await rt.runPipe('notify');
      return { out, texts: s.messages.map((m) => m.text).sort() };
    };
    expect((await send()).texts).toEqual(['Hello Ada, {{ nickname }}!', 'Hello Bo, B!']);
    expect((await send('debug')).texts).toEqual(['Hello Ada, {{ nickname }}!', 'Hello Bo, B!']);
    expect((await send('empty_string')).texts).toEqual(['Hello Ada, !', 'Hello Bo, B!']);
    const strict = await send('strict');
    expect(strict.texts).toEqual(['Hello Bo, B!']);
    expect(strict.out.failed).toBe(1);
  });

  it('logs in with smtp_username/smtp_password, and a refused login fails the run with nothing sent', async () => {
    const s = await server({ auth: { user: 'robot', pass: 's3cret' } });
    const rt = await runtime();
    await rt.setSecrets({ 'smtp-password': 's3cret' }, true);
    await configure(rt, [smtp(s.port, { smtp_username: 'robot', smtp_password: '$SECRET(smtp-password)' }), pipe(people, { subject_template: 'x', body_template: 'y', recipients: 'a@example.org' })]);
    expect((await rt.runPipe('notify')).written).toBe(2);
    expect(s.messages.map((m) => m.user)).toEqual(['robot', 'robot']);

    const s2 = await server({ auth: { user: 'robot', pass: 's3cret' } });
    const rt2 = await runtime();
    await configure(rt2, [smtp(s2.port, { smtp_username: 'robot', smtp_password: 'wrong' }), pipe(people, { subject_template: 'x', body_template: 'y', recipients: 'a@example.org' }, { fallback_to_single_entities_on_batch_fail: false, batch_retries: 0 })]);
    const out = await rt2.runPipe('notify');
    expect(out.status).toBe('failed');
    expect(out.error).toMatch(/refused the login/);
    expect(s2.messages).toHaveLength(0);
  });

  it('uses STARTTLS with use_tls, and stays in plain text without it', async () => {
    const s = await server({ tls: 'starttls' });
    const rt = await runtime();
    await configure(rt, [smtp(s.port, { use_tls: true }), pipe(people.slice(0, 1), { subject_template: 'x', body_template: 'y', recipients: 'a@example.org' })]);
    await rt.runPipe('notify');
    expect(s.messages[0].secure).toBe(true);

    const s2 = await server({ tls: 'starttls' });
    const rt2 = await runtime();
    await configure(rt2, [smtp(s2.port), pipe(people.slice(0, 1), { subject_template: 'x', body_template: 'y', recipients: 'a@example.org' })]);
    await rt2.runPipe('notify');
    expect(s2.messages[0].secure).toBe(false);

    // use_tls against a server without STARTTLS: refused before anything is sent.
    const s3 = await server();
    const rt3 = await runtime();
    await configure(rt3, [smtp(s3.port, { use_tls: true }), pipe(people.slice(0, 1), { subject_template: 'x', body_template: 'y', recipients: 'a@example.org' }, { batch_retries: 0 })]);
    const out = await rt3.runPipe('notify');
    expect(out.status).toBe('failed');
    expect(s3.messages).toHaveLength(0);
  });

  it('drops messages beyond max_per_hour with a log line, without failing', async () => {
    const s = await server();
    const rt = await runtime();
    const many = Array.from({ length: 5 }, (_, i) => ({ _id: `m${i}` }));
    await configure(rt, [smtp(s.port, { max_per_hour: 3 }), pipe(many, { subject_template: '{{ _id }}', body_template: 'b', recipients: 'a@example.org' })]);
    const out = await rt.runPipe('notify');
    expect(out.status).toBe('completed');
    expect(out.written).toBe(3);
    expect(s.messages).toHaveLength(3);
  });

  it('fails only the entities whose recipients the server refuses, or which have none', async () => {
    const s = await server({ refuse: (a) => a.startsWith('nobody@') });
    const rt = await runtime();
    const entities = [
      { _id: 'ok', to: 'a@example.org' },
      { _id: 'refused', to: 'nobody@example.org' },
      { _id: 'none' },
      { _id: 'deleted', to: 'a@example.org', _deleted: true },
    ];
    await configure(rt, [smtp(s.port), pipe(entities, { subject_template: '{{ _id }}', body_template: 'b', recipients_property: 'to' }, { max_consecutive_write_errors: 10 })]);
    const out = await rt.runPipe('notify');
    expect(out.status).toBe('completed');
    expect(out.failed).toBe(2);
    expect(s.messages.map((m) => m.subject)).toEqual(['ok']);
    const log = await rt.log.entries('notify');
    const messages = log.filter((e) => e.event_type === 'write-error').map((e) => String(e.original_error_message));
    expect(messages.some((m) => /entity "refused".*refused the message/.test(m))).toBe(true);
    expect(messages.some((m) => /entity "none".*no recipients in "to"/.test(m))).toBe(true);
  });

  it('never sends a message twice when the server defers part of a batch and the pipe runs again', async () => {
    let defer = false;
    let count = 0;
    const s = await server({ deferData: () => defer || (++count > 2 && (defer = true)) });
    const rt = await runtime();
    const many = Array.from({ length: 5 }, (_, i) => ({ _id: `m${i}` }));
    await configure(rt, [smtp(s.port), pipe(many, { subject_template: '{{ _id }}', body_template: 'b', recipients: 'a@example.org' }, { fallback_to_single_entities_on_batch_fail: false })]);
    const first = await rt.runPipe('notify');
    expect(first.status).toBe('failed');
    expect(first.error).toMatch(/could not take the message now.*451/);
    expect(s.messages.map((m) => m.subject)).toEqual(['m0', 'm1']);
    defer = false;
    count = -100;
    const second = await rt.runPipe('notify');
    expect(second.status).toBe('completed');
    expect(s.messages.map((m) => m.subject)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
  });

  it('reports an unreachable server clearly', async () => {
    const port = await freePort();
    const rt = await runtime();
    await configure(rt, [smtp(port), pipe(people, { subject_template: '{{ name }}', body_template: 'b', recipients: 'a@example.org' }, { batch_retries: 0 })]);
    const out = await rt.runPipe('notify');
    expect(out.status).toBe('failed');
    expect(out.error).toMatch(new RegExp(`system "mailer": the SMTP server 127\\.0\\.0\\.1:${port} could not be reached`));
  });

  it('refuses bad configurations before sending anything', async () => {
    const rt = await runtime();
    const r = await rt.setConfigFiles(
      (await import('../../runtime/service/config-files.js')).entitiesToFiles([smtp(25), pipe(people, { body_template: 'x', body_template_property: 'y', subject_template: 's', recipients: 'a@b' })]),
    );
    expect(r.ok).toBe(true);
    expect(rt.instantiationErrors.get('notify')).toMatch(/set at most one of "body_template" and "body_template_property"/);

    await configure(rt, [smtp(25, { smtp_username: 'u' }), pipe(people, { body_template: 'x', subject_template: 's', recipients: 'a@b' })]);
    expect(rt.instantiationErrors.get('notify')).toMatch(/"smtp_password" is required when "smtp_username" is set/);

    await configure(rt, [smtp(25), pipe(people, { body_template: '{% for %}', subject_template: 's', recipients: 'a@b' })]);
    expect(rt.instantiationErrors.get('notify')).toMatch(/"body_template": invalid Jinja template/);
  });

  it('times out on a server that accepts connections but never greets', async () => {
    const s = await server({ silent: true });
    const client = new SmtpClient({ id: 'slow', config: { smtp_server: '127.0.0.1', smtp_port: s.port } }, { connectMs: 2000, greetingMs: 300, socketMs: 2000 });
    cleanups.push(async () => client.close());
    const err = await client.send({ from: 'a@example.org', to: ['b@example.org'], subject: 's', text: 't' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SmtpError);
    expect((err as SmtpError).code).toBe('SMTP_TIMEOUT');
    expect((err as SmtpError).message).toMatch(/did not answer in time/);
  });
});
