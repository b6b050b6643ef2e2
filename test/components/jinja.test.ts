/**
 * The components' shared Jinja engine: the free variables of a template (what the mail sink's
 * unhandled_template_variable_replacement modes act on), and the mail sink's templates on it.
 */
import { describe, expect, it } from 'vitest';
import { freeVariables, TemplateError } from '../../runtime/components/jinja/jinja.js';
import { checkTemplate, renderTemplate } from '../../runtime/components/sinks/mail-template.js';

const free = (text: string) => freeVariables(text, 'test');

describe('free variables of a template', () => {
  it('are the names read, once each, without filter, test, keyword or dict key names', () => {
    expect(free('Hello {{ name | upper }}, {{ greeting ~ name }}')).toEqual(['name', 'greeting']);
    expect(free("{{ total | round(digits) }} {{ range(n) | join(sep=comma) }} {{ {key: value}['key'] }}")).toEqual(['total', 'digits', 'n', 'comma', 'value']);
    expect(free('{{ order.lines[index].price }} {{ now() }} {{ True and None }}')).toEqual(['order', 'index']);
    expect(free('{% if n is divisibleby(step) %}{{ x if flag else y }}{% endif %}')).toEqual(['n', 'step', 'flag', 'x', 'y']);
  });

  it('leave out what the template binds itself and what it only tests or defaults', () => {
    expect(free('{% for line in lines %}{{ loop.index }}: {{ line.text }} of {{ title }}{% else %}{{ empty }}{% endfor %}')).toEqual(['lines', 'title', 'empty']);
    expect(free('{% set greeting = "Hi " ~ first %}{{ greeting }}{% for k, v in pairs %}{{ k }}={{ v }}{% endfor %}')).toEqual(['first', 'pairs']);
    expect(free('{% macro row(cell, width=w) %}{{ cell }}|{{ width }}{% endmacro %}{{ row(value) }}')).toEqual(['w', 'value']);
    expect(free('{% if nickname is defined %}{{ nickname }}{% endif %}')).toEqual(['nickname']);
    expect(free('{% if nickname is undefined %}-{% endif %}{{ title | default("none") }}{{ who | d(fallback) }}')).toEqual(['fallback']);
  });

  it('reports a template that does not parse', () => {
    expect(() => free('{% for %}')).toThrow(TemplateError);
  });
});

describe('mail templates on the shared engine', () => {
  const ctx = { name: 'Ada', n: 3, flags: [true, null] };

  it('render undefined variables as each mode says', () => {
    expect(renderTemplate('Hi {{ name }} {{ nickname }}', ctx, 'debug')).toBe('Hi Ada {{ nickname }}');
    expect(renderTemplate('Hi {{ name }} {{ nickname }}', ctx, 'empty_string')).toBe('Hi Ada ');
    expect(() => renderTemplate('Hi {{ nickname }} {{ title }}', ctx, 'strict')).toThrow('the template uses "nickname", "title", which are not defined');
    // A template that only tests or defaults a name handles its absence itself, in every mode.
    for (const mode of ['debug', 'empty_string', 'strict'] as const) {
      expect(renderTemplate('{% if nickname is defined %}nick{% else %}{{ name }}{% endif %} {{ title | default("x") }}', ctx, mode)).toBe('Ada x');
    }
  });

  it('write values as the REST templates do, and report bad templates in the sink words', () => {
    expect(renderTemplate('{{ n * 2 }} {{ flags }} {{ name | lower }}', ctx, 'strict')).toBe('6 [true,null] ada');
    expect(() => checkTemplate('{% for %}')).toThrow(/^invalid Jinja template: /);
    expect(() => renderTemplate('{{ name.missing() }}', ctx, 'debug')).toThrow(/^the template failed: /);
  });
});
