"""The dashboard's stylesheet and countdown script, served as files of the app
(``/static/dashboard.css``, ``/static/ticker.js``) so the Content-Security-Policy can forbid
every inline script and style.

The script reads the ticket list from ``<script type="application/json" id="tickets-data">``
(JSON with ``<``, ``>`` and ``&`` as ``\\u003c``…, so no data can end or comment out that
element) and the refresh interval from ``data-refresh`` on ``#tickets``; it writes every value
into the table through ``textContent``-safe escaping.
"""

from __future__ import annotations

CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.3em .5em;
font-size:.9em;vertical-align:top}th{background:#f3f3f3}
.ok{background:#c8efc8}.warn{background:#ffe9a8}.hot{background:#ffbf80}
.breached{background:#f08080;font-weight:bold}.paused{background:#ddd}.done{background:#eef4fb}
nav a{margin-right:1em}.future{color:#888}.err{color:#b00}form.f{margin:.5em 0}
.long{white-space:pre-wrap}tr.internal{background:#fff6d8}tr.public{background:#eef8ee}
form.inline{display:inline}
"""

TICKER_JS = """'use strict';
const ESC={'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'};
function esc(s){return String(s===null||s===undefined?'':s).replace(/[&<>"']/g,ch=>ESC[ch]);}
function fmt(s){const neg=s<0;s=Math.abs(Math.floor(s));
 const h=Math.floor(s/3600),m=Math.floor((s%3600)/60);
 const t=h?`${h}h ${String(m).padStart(2,'0')}m`:`${m}m`;return neg?`overdue ${t}`:t;}
function colour(c){if(c.status==='breached'||c.remaining<0)return'breached';
 if(c.status==='met'||c.status==='no-target')return'done';
 if(c.status==='paused')return'paused';
 const f=c.fraction||0;return f<0.5?'ok':f<0.75?'warn':'hot';}
function readData(){const el=document.getElementById('tickets-data');
 try{return el?JSON.parse(el.textContent):[];}catch(err){return [];}}
var DATA=readData();
function cell(c){if(c.status==='met'||c.status==='no-target'||c.remaining===null)return esc(c.text);
 return esc(fmt(c.remaining)+(c.status==='paused'?' (paused)':''));}
function td(c){return `<td class="clock ${esc(colour(c))}" data-kind="${esc(c.kind)}"`+
 ` title="${esc(c.target)}, due ${esc(c.deadline||'—')}">${cell(c)}</td>`;}
function tr(t){const n=Number(t.number);const clocks=t.clocks.length?t.clocks.map(td).join(''):
 '<td colspan="3">service request: no SLA clock</td>';
 return `<tr id="t${n}"><td><a href="/ticket/${n}">#${n}</a></td>`+
 `<td>${esc(t.customer)}</td><td>${esc(t.severity)}</td><td>${esc(t.status)}</td>`+
 `<td>${esc(t.assignee||'—')}</td><td>${esc(t.summary)}</td>${clocks}</tr>`;}
function draw(){const body=document.getElementById('rows');if(!body)return;
 body.innerHTML=DATA.map(tr).join('');
 document.getElementById('count').textContent=DATA.length;}
setInterval(()=>{for(const t of DATA)for(const c of t.clocks){if(c.tick>0){c.tick--;
 c.remaining--;if(c.target_seconds)c.fraction=1-c.remaining/c.target_seconds;}}draw();},1000);
async function reload(){try{
 const r=await fetch('/api/tickets'+location.search,{credentials:'same-origin'});
 if(r.status===401){location.href='/login';return;}const j=await r.json();DATA=j.tickets;
 document.getElementById('asof').textContent=j.as_of;draw();}catch(err){}}
const table=document.getElementById('tickets');
const REFRESH=Number(table?table.dataset.refresh:0)||15;
if(table)setInterval(reload,REFRESH*1000);
"""
