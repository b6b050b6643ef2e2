/** JSON shown as text, focusable so that a long block can be scrolled with the keyboard. */
export function JsonBlock({ value, label }: { value: unknown; label: string }) {
  return (
    <pre tabIndex={0} aria-label={label}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}
