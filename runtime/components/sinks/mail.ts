/**
 * The mail sink: one email per entity through an SMTP system. Subject, HTML/text bodies and
 * recipients come from Jinja templates (in the config, or in entity properties) and entity
 * properties. Entities whose message cannot be built or whose recipients the server refuses fail
 * one by one; a server that cannot be reached fails the batch. Messages already sent are
 * remembered until the checkpoint after them is saved, so a retried batch or a rerun after a
 * failure never sends a message twice. Deleted entities send nothing.
 */
import schema from '../../../schemas/sinks/mail.schema.json' with { type: 'json' };
import { hash } from 'node:crypto';
import { stringifyValue } from '../../../compiler/values/json.js';
import type { Entity } from '../../../compiler/values/types.js';
import { SmtpError, smtpClientFor, type MailMessage } from '../systems/smtp.js';
import type { EntityFailure, SinkSpec } from '../types.js';
import { checkTemplate, htmlToText, looksLikeHtml, renderTemplate, type UndefinedMode } from './mail-template.js';
import { pipeOwnedDocument } from '../pipe-owned.js';

/** Messages of an unfinished batch that were sent already. */
const sentDocument = pipeOwnedDocument((pipe) => `mail-sink:${pipe}`);

export class MailEntityError extends Error {
  constructor(
    message: string,
    readonly code: 'MAIL_TEMPLATE' | 'MAIL_RECIPIENTS' | 'MAIL_REJECTED',
  ) {
    super(message);
  }
}

function addresses(value: unknown): string[] {
  const list = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : [];
  return list.map((a) => (typeof a === 'string' ? a.trim() : '')).filter((a) => a !== '');
}

export const mailSink: SinkSpec = {
  kind: 'sink',
  type: 'mail',
  doc: 'Sends one email per entity through an SMTP system: subject, HTML and plain-text bodies from Jinja templates given in the config or carried by the entities, recipients from the config or an entity property; an HTML body without a text template gets a text part extracted from the HTML. Deleted entities send nothing.',
  schema,
  create(component, ctx) {
    const c = component.config;
    const what = `pipe "${ctx.pipe.id}": the mail sink`;
    const client = smtpClientFor(ctx, c.system, 'the mail sink');
    const fail = (msg: string): never => {
      throw new Error(`${what}: ${msg}`);
    };
    const template = (name: string) => {
      const fixed = typeof c[name] === 'string' ? (c[name] as string) : undefined;
      const written = c[`${name}_property`];
      if (fixed !== undefined && typeof written === 'string') fail(`set at most one of "${name}" and "${name}_property"`);
      if (fixed !== undefined) {
        try {
          checkTemplate(fixed);
        } catch (err) {
          fail(`"${name}": ${(err as Error).message}`);
        }
      }
      return { fixed, property: typeof written === 'string' ? written : name };
    };
    const body = template('body_template');
    const textBody = template('text_body_template');
    const subject = template('subject_template');
    if (typeof c.recipients === 'string' && typeof c.recipients_property === 'string') fail('set at most one of "recipients" and "recipients_property"');
    const fixedRecipients = typeof c.recipients === 'string' ? addresses(c.recipients) : null;
    const recipientsProperty = typeof c.recipients_property === 'string' ? c.recipients_property : 'recipients';
    const from = String(c.mail_from);
    const mode = (c.unhandled_template_variable_replacement ?? 'debug') as UndefinedMode;
    const metaKey = sentDocument(ctx.pipe.id);

    /** Messages sent whose checkpoint is not saved yet (kept in the store while a batch is unfinished). */
    let sentPending = new Set<string>();

    const keyOf = (e: Entity): string => hash('sha256', stringifyValue(e, true), 'hex');

    const build = (entity: Entity): MailMessage => {
      const context = JSON.parse(stringifyValue(entity)) as Record<string, unknown>;
      const pick = (t: { fixed?: string; property: string }, required: boolean, label: string): string | undefined => {
        const text = t.fixed ?? (typeof entity[t.property] === 'string' ? (entity[t.property] as string) : undefined);
        if (text === undefined) {
          if (required) throw new MailEntityError(`no ${label} template: set "${label}_template" or give the entity a "${t.property}" property`, 'MAIL_TEMPLATE');
          return undefined;
        }
        try {
          return renderTemplate(text, context, mode);
        } catch (err) {
          throw new MailEntityError(`the ${label} template: ${(err as Error).message}`, 'MAIL_TEMPLATE');
        }
      };
      const subjectText = pick(subject, true, 'subject')!;
      const bodyText = pick(body, true, 'body')!;
      const plain = pick(textBody, false, 'text_body');
      const to = fixedRecipients ?? addresses(entity[recipientsProperty]);
      if (!to.length) throw new MailEntityError(fixedRecipients ? '"recipients" names no address' : `the entity has no recipients in "${recipientsProperty}"`, 'MAIL_RECIPIENTS');
      const subjectLine = subjectText.replace(/\s*\n\s*/g, ' ').trim();
      if (plain !== undefined) return { from, to, subject: subjectLine, html: bodyText, text: plain };
      if (looksLikeHtml(bodyText)) return { from, to, subject: subjectLine, html: bodyText, text: htmlToText(bodyText) };
      return { from, to, subject: subjectLine, text: bodyText };
    };

    const remember = async () => ctx.store.setMeta(metaKey, sentPending.size ? [...sentPending] : null);

    return {
      dataset: null,
      atomicCheckpoint: false,
      tracksDeletions: false,
      async beginRun() {
        sentPending = new Set((await ctx.store.getMeta<string[]>(metaKey)) ?? []);
      },
      async write(entities, run, checkpoint) {
        const failures: EntityFailure[] = [];
        let written = 0;
        let unchanged = 0;
        for (const entity of entities) {
          if (run.signal.aborted) throw new Error(`${what}: the run was stopped`);
          if (entity._deleted === true) {
            unchanged++;
            continue;
          }
          const key = keyOf(entity);
          if (sentPending.has(key)) {
            // Sent by an earlier attempt at this batch.
            written++;
            continue;
          }
          let message: MailMessage;
          try {
            message = build(entity);
          } catch (err) {
            failures.push({ entity, error: new Error(`${what}: entity "${String(entity._id)}": ${(err as Error).message}`) });
            continue;
          }
          if (!client.takeSlot()) {
            ctx.logger.warn({ pipe: ctx.pipe.id, system: client.id, entity: String(entity._id), max_per_hour: client.maxPerHour }, 'mail not sent: the SMTP system reached max_per_hour; the message is dropped');
            unchanged++;
            continue;
          }
          try {
            await client.send(message);
          } catch (err) {
            client.returnSlot();
            if (err instanceof SmtpError && err.code === 'SMTP_REJECTED') {
              failures.push({ entity, error: new MailEntityError(`${what}: entity "${String(entity._id)}": ${err.message}`, 'MAIL_REJECTED') });
              continue;
            }
            // The server is unreachable or broken: the batch fails; what was sent is remembered.
            await remember();
            throw new Error(`${what}: ${(err as Error).message}`);
          }
          sentPending.add(key);
          written++;
        }
        if (checkpoint) {
          await ctx.store.setPipeState(checkpoint.pipeId, checkpoint.state);
          if (sentPending.size) {
            sentPending.clear();
            await remember();
          }
        }
        return { written, unchanged, deleted: 0, failures };
      },
      async flush() {
        // A stopped run saves its position right after this: everything sent so far is behind it.
        sentPending.clear();
        await remember();
        return { written: 0, unchanged: 0, deleted: 0, failures: [] };
      },
      async endRun(_run, checkpoint) {
        await ctx.store.setPipeState(checkpoint.pipeId, checkpoint.state);
        sentPending.clear();
        await remember();
        return { written: 0, unchanged: 0, deleted: 0, failures: [] };
      },
    };
  },
};
