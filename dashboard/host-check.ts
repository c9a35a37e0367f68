// DNS rebinding: a web page on another site can make a browser send requests to 127.0.0.1 under
// its own host name. The dashboard answers only requests whose Host header names it: the loopback
// names, the address it is bound to, and DASHBOARD_ALLOWED_HOSTS.
const LOOPBACK = ['127.0.0.1', 'localhost', '[::1]', '::1'];

/** The host part of a Host header: `[::1]:8501` gives `[::1]`, `example.com:80` gives `example.com`. */
export function hostOf(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  return h.replace(/:\d+$/, '');
}

export function allowedHosts(bindHost: string, extra: string[] = []): Set<string> {
  return new Set([...LOOPBACK, bindHost.toLowerCase(), ...extra.map((h) => h.toLowerCase())]);
}

export function hostAllowed(header: string | undefined, allowed: Set<string>): boolean {
  if (!header) return false;
  return allowed.has(hostOf(header));
}
