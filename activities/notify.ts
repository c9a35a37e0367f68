// Posts a Slack-compatible message ({"text": …}) to ALERT_WEBHOOK_URL, when one is configured.
export async function postAlert(url: string | undefined, text: string): Promise<boolean> {
  if (!url) return false;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`alert webhook answered ${res.status}`);
  return true;
}
