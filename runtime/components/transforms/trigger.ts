import { getPath } from '../../../compiler/dtl/runtime.js';
import { wildcardMatcher } from '../../../compiler/dtl/functions/ns-util.js';
import type { Entity } from '../../../compiler/values/types.js';

/**
 * The `trigger_on` setting of a transform: only entities whose property `key` (default
 * `_trigger`, dotted for nested properties) is a string matching the wildcard `value` are
 * transformed; the others pass through unchanged. Null when the setting is absent.
 */
export function triggerMatcher(setting: unknown): ((e: Entity) => boolean) | null {
  const trigger = setting as { key?: string; value: unknown } | undefined;
  if (!trigger) return null;
  const path = (trigger.key ?? '_trigger').split('.');
  const match = wildcardMatcher(String(trigger.value));
  return (e) => {
    const v = getPath(e, path);
    return typeof v === 'string' && match(v);
  };
}
