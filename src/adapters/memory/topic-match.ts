/** MQTT topic filters: `+` matches one level, a trailing `#` the rest (including none). */
export function topicMatches(filter: string, topic: string): boolean {
  // Wildcards never match topics starting with `$` (MQTT 3.1.1 §4.7.2).
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return i === f.length - 1;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/** True when `filter` is a valid MQTT topic filter (wildcards only as whole levels, `#` last). */
export function validFilter(filter: string): boolean {
  if (filter.length === 0) return false;
  const levels = filter.split('/');
  return levels.every((l, i) => (l.includes('#') ? l === '#' && i === levels.length - 1 : !l.includes('+') || l === '+'));
}
