// 固废链数据看板: polls the session's summary every 2 s and redraws the figures, the nodes, the
// contracts and the newest entries, without a reload. Text only (textContent), never markup.
(function () {
  'use strict';

  var board = document.getElementById('ledger-board');
  if (!board) return;
  var url = board.getAttribute('data-summary');

  function text(id, value) {
    var el = document.getElementById(id);
    if (el) el.textContent = value === null || value === undefined ? '—' : String(value);
  }

  function cell(row, value) {
    var td = document.createElement('td');
    td.textContent = value === null || value === undefined ? '—' : String(value);
    row.appendChild(td);
    return td;
  }

  function rows(id, items, fill) {
    var body = document.querySelector('#' + id + ' tbody');
    if (!body) return;
    var fresh = document.createElement('tbody');
    items.forEach(function (item) {
      var tr = document.createElement('tr');
      fill(tr, item);
      fresh.appendChild(tr);
    });
    body.parentNode.replaceChild(fresh, body);
  }

  function draw(d) {
    text('ledger-updated', d.snapshot_at_text);
    text('ledger-height', d.height);
    text('ledger-entries', d.entries);
    text('ledger-node-count', d.node_count);
    text('ledger-contract-count', d.contract_count);
    text('ledger-executions', d.executions);
    var f = d.final_checkpoint;
    text('final-height', f ? f.height : null);
    text('final-size', f ? f.size + ' 条' : null);
    text('final-root', f ? f.root_prefix + '…' : null);
    text('final-signatures', (f ? f.signatures : '—') + '/' + d.quorum);
    text('final-at', f ? f.at_text : null);
    rows('ledger-nodes', d.nodes, function (tr, n) {
      cell(tr, n.label);
      cell(tr, n.role === 'log' ? '账本节点' : '见证节点');
      cell(tr, n.height);
      cell(tr, n.last_at_text);
      var state = document.createElement('span');
      state.className = n.keeping_up ? 'tag ok' : 'tag void';
      state.textContent = n.keeping_up ? '正常' : '落后';
      cell(tr, '').replaceChildren(state);
    });
    rows('ledger-contracts', d.contracts, function (tr, c) {
      cell(tr, c.name);
      cell(tr, 'v' + c.version);
      cell(tr, c.keys);
      cell(tr, c.executions);
    });
    var alerts = document.getElementById('ledger-alerts');
    if (alerts) {
      if (d.alerts.length === 0) {
        alerts.className = 'muted';
        alerts.removeAttribute('role');
        alerts.textContent = '最近的哈希核验未发现异常。';
      } else {
        alerts.className = 'alert';
        alerts.setAttribute('role', 'alert');
        alerts.textContent = '最近的哈希核验发现 ' + d.alerts.length + ' 次异常，请查看审计日志。';
      }
    }
    rows('ledger-recent', d.recent, function (tr, e) {
      cell(tr, e.seq);
      cell(tr, e.contract_name);
      cell(tr, e.key);
      cell(tr, e.operation_label);
      cell(tr, e.at_text);
      cell(tr, e.app_name);
    });
    document.getElementById('ledger-recent-empty').hidden = d.recent.length > 0;
  }

  function poll() {
    var stale = document.getElementById('ledger-stale');
    fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' })
      .then(function (r) {
        // Signed out meanwhile: the summary redirects to the login page, and polling stops.
        if (r.redirected) {
          stale.textContent = '登录已失效，请重新登录';
          stale.hidden = false;
          return null;
        }
        if (!r.ok) return Promise.reject(r.status);
        return r.json().then(function (d) {
          draw(d);
          stale.hidden = true;
          return true;
        });
      })
      .catch(function () {
        stale.textContent = '连接中断，正在重试';
        stale.hidden = false;
        return true;
      })
      .then(function (again) { if (again) setTimeout(poll, 2000); });
  }

  setTimeout(poll, 2000);
})();
