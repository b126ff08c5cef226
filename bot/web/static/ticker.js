'use strict';
// The viewer's time zone, from the browser, in a cookie the server reads: every time on the
// desk is written in it (the page names the zone). Reloaded once when it was missing or changed.
// IANA names are letters, digits and / _ - + only: anything else is not written.
(function(){
 let tz='';try{tz=Intl.DateTimeFormat().resolvedOptions().timeZone||'';}catch(err){}
 if(!/^[A-Za-z0-9\/_+-]{1,64}$/.test(tz))return;
 const has=document.cookie.split('; ').find(c=>c.startsWith('destek_tz='));
 const now=has?has.slice(10):'';
 if(now===tz)return;
 document.cookie='destek_tz='+tz+'; path=/; max-age=31536000; samesite=lax';
 if(document.getElementById('tickets')&&!sessionStorage.getItem('destek_tz_reloaded')){
  sessionStorage.setItem('destek_tz_reloaded','1');location.reload();}
})();
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
 const product=esc(t.product||'—')+(t.version?' · '+esc(t.version):'');
 return `<tr id="t${n}"><td><a href="/ticket/${n}">#${n}</a></td>`+
 `<td>${esc(t.customer)}</td><td>${esc(t.severity)}</td><td>${esc(t.status)}</td>`+
 `<td>${esc(t.assignee||'—')}</td><td>${esc(t.summary)}</td><td>${esc(t.tier)}</td>`+
 `<td>${product}</td><td>${esc(t.contact||'—')}</td><td>${esc(t.reported)}</td>`+
 `<td>${esc(t.age)}</td>${clocks}</tr>`;}
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
