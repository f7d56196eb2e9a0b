// The demo page's operator view: users online and connections open over a range (GET /usage with an admin dev
// token), charted as a small hand-drawn SVG, the live figures, and the latest presence events (GET /dev/events).

interface UsagePoint {
  t: number;
  online: number;
  connections: number;
}
interface UsageReport {
  onlineNow: number;
  connectionsNow: number;
  peakOnline: number;
  series: UsagePoint[];
}
interface PresenceEvent {
  detail: { userId: string; status: string; previousStatus: string; v: number; at: number };
}

/** The dev token's user and the group `GET /usage` admits (ADMIN_GROUP's default). */
const OPERATOR = { userId: 'operator', groups: ['presence-admin'] };
const REFRESH_MS = 5000;
const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 720;
const HEIGHT = 220;
const PAD = { left: 44, right: 12, top: 12, bottom: 26 };

const STYLE = `
#operator { margin: 0 24px 24px; max-width: 1052px; background: #fff; border: 1px solid #d0d7de; border-radius: 8px;
  padding: 16px 20px; }
#operator .bar { display: flex; flex-wrap: wrap; gap: 8px 24px; align-items: baseline; }
#operator .figure { font-size: 28px; font-weight: 600; }
#operator .figure small { display: block; font-size: 12px; font-weight: 400; color: #57606a; }
#operator .cols { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 20px; margin-top: 12px; }
#usage-chart { width: 100%; height: auto; display: block; }
#usage-chart .grid { stroke: #eaeef2; }
#usage-chart .axis { fill: #8c959f; font-size: 10px; }
#usage-chart .online { fill: none; stroke: #0969da; stroke-width: 2; }
#usage-chart .connections { fill: none; stroke: #8250df; stroke-width: 1.5; stroke-dasharray: 4 3; }
#usage-chart .dot-online { fill: #0969da; }
#operator .legend span { font-size: 12px; margin-right: 12px; }
#operator .legend .k { display: inline-block; width: 14px; height: 3px; vertical-align: middle; margin-right: 4px; }
#presence-events li { font-family: ui-monospace, 'DejaVu Sans Mono', monospace; font-size: 12px; padding: 2px 0;
  color: #57606a; overflow-wrap: anywhere; }
@media (max-width: 720px) { #operator { margin: 0 12px 16px; padding: 12px; } #operator .cols { grid-template-columns: 1fr; } }
#presence-events .to-online { color: #1a7f37; } #presence-events .to-offline { color: #6e7781; }
#presence-events .to-busy { color: #cf222e; } #presence-events .to-away { color: #9a6700; }
`;

function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function timeLabel(t: number, spanMs: number): string {
  const d = new Date(t);
  if (spanMs <= 86_400_000) return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return d.toLocaleDateString([], { month: 'short', day: 'numeric' });
}

/** Draws the series (plus the live point) into `chart`: two lines on one axis from 0 to a rounded maximum. */
export function drawUsageChart(
  chart: SVGSVGElement,
  points: readonly UsagePoint[],
  rangeMs: number,
  now: number,
): void {
  chart.replaceChildren();
  chart.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
  chart.dataset.points = String(points.length);
  const from = now - rangeMs;
  const top = Math.max(4, ...points.map((p) => Math.max(p.online, p.connections)));
  const step = 10 ** Math.floor(Math.log10(top));
  const max = Math.ceil(top / step) * step;
  const x = (t: number) => PAD.left + ((t - from) / rangeMs) * (WIDTH - PAD.left - PAD.right);
  const y = (v: number) => HEIGHT - PAD.bottom - (v / max) * (HEIGHT - PAD.top - PAD.bottom);
  for (let i = 0; i <= 4; i += 1) {
    const value = (max / 4) * i;
    chart.append(svg('line', { class: 'grid', x1: PAD.left, x2: WIDTH - PAD.right, y1: y(value), y2: y(value) }));
    chart.append(svg('text', { class: 'axis', x: PAD.left - 6, y: y(value) + 3, 'text-anchor': 'end' }, String(value)));
  }
  for (let i = 0; i <= 4; i += 1) {
    const t = from + (rangeMs / 4) * i;
    const anchor = i === 0 ? 'start' : i === 4 ? 'end' : 'middle';
    chart.append(svg('text', { class: 'axis', x: x(t), y: HEIGHT - 8, 'text-anchor': anchor }, timeLabel(t, rangeMs)));
  }
  for (const key of ['connections', 'online'] as const) {
    const line = points.map((p) => `${x(p.t).toFixed(1)},${y(p[key]).toFixed(1)}`).join(' ');
    chart.append(svg('polyline', { class: key, points: line }));
  }
  const last = points[points.length - 1];
  if (last) chart.append(svg('circle', { class: 'dot-online', cx: x(last.t), cy: y(last.online), r: 3 }));
}

/** Mounts the operator view at the end of the page and keeps it fresh. */
export function startOperatorView(): void {
  const style = document.createElement('style');
  style.textContent = STYLE;
  document.head.append(style);
  const section = document.createElement('section');
  section.id = 'operator';
  section.innerHTML = `
    <div class="bar">
      <h2 style="margin:0">Operator view</h2>
      <label>Range <select id="usage-range">
        <option value="1h">last hour</option><option value="24h">24 hours</option><option value="7d">7 days</option>
        <option value="30d">30 days</option><option value="90d">90 days</option></select></label>
      <div class="figure"><span id="online-now">–</span><small>users online now</small></div>
      <div class="figure"><span id="connections-now">–</span><small>connections open</small></div>
      <div class="figure"><span id="peak-online">–</span><small>peak online in range</small></div>
      <span id="usage-status" class="muted"></span>
    </div>
    <div class="cols">
      <div>
        <svg id="usage-chart" role="img" aria-label="users online and connections over time"></svg>
        <div class="legend"><span><i class="k" style="background:#0969da"></i>users online</span>
          <span><i class="k" style="background:#8250df"></i>connections</span></div>
      </div>
      <div><h2 style="margin-top:0">Presence events</h2><ul id="presence-events"></ul></div>
    </div>`;
  document.body.insertBefore(section, document.querySelector('script'));
  const rangeSelect = section.querySelector('#usage-range') as HTMLSelectElement;
  const chart = section.querySelector('#usage-chart') as SVGSVGElement;
  const status = section.querySelector('#usage-status') as HTMLElement;
  const setText = (id: string, text: string) => {
    (section.querySelector(`#${id}`) as HTMLElement).textContent = text;
  };
  let token = '';

  const adminToken = async (): Promise<string> => {
    const response = await fetch('/dev/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(OPERATOR),
    });
    return ((await response.json()) as { token: string }).token;
  };
  const rangeMs = (range: string) =>
    ({ '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 })[range] ?? 90 * 86_400_000;

  const refreshUsage = async () => {
    const range = rangeSelect.value;
    token ||= await adminToken();
    let response = await fetch(`/usage?range=${range}`, { headers: { Authorization: `Bearer ${token}` } });
    if (response.status === 401) {
      token = await adminToken();
      response = await fetch(`/usage?range=${range}`, { headers: { Authorization: `Bearer ${token}` } });
    }
    if (!response.ok) throw new Error(`GET /usage answered ${response.status}`);
    const report = (await response.json()) as UsageReport;
    if (range !== rangeSelect.value) return;
    const now = Date.now();
    // the live figures extend the recorded series to now
    const points = [...report.series, { t: now, online: report.onlineNow, connections: report.connectionsNow }];
    drawUsageChart(chart, points, rangeMs(range), now);
    setText('online-now', String(report.onlineNow));
    setText('connections-now', String(report.connectionsNow));
    setText('peak-online', String(report.peakOnline));
  };
  const refreshEvents = async () => {
    const { events } = (await (await fetch('/dev/events')).json()) as { events: PresenceEvent[] };
    const list = section.querySelector('#presence-events') as HTMLElement;
    list.replaceChildren(
      ...events
        .slice(-15)
        .reverse()
        .map(({ detail }) => {
          const li = document.createElement('li');
          li.className = `to-${detail.status}`;
          li.textContent = `${new Date(detail.at).toLocaleTimeString()}  ${detail.userId}  ${detail.previousStatus} → ${detail.status}`;
          return li;
        }),
    );
    if (events.length === 0) list.innerHTML = '<li class="muted">No presence events yet.</li>';
  };
  const refresh = async () => {
    try {
      await Promise.all([refreshUsage(), refreshEvents()]);
      status.textContent = `updated ${new Date().toLocaleTimeString()}`;
      section.dataset.refreshed = String(Date.now());
    } catch (error) {
      status.textContent = `refresh failed: ${String(error)}`;
    }
  };
  rangeSelect.addEventListener('change', () => void refresh());
  void refresh();
  setInterval(() => void refresh(), REFRESH_MS);
}
