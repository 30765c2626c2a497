// Browser-side helpers of the CinemaVision dashboard: alert sound and notifications, file downloads, JSON calls
// that must set cookies (password change), and pointer dragging in the seat-map editor.
window.cv = (function () {
  let audio = null;

  function beep() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      const now = audio.currentTime;
      [0, 0.22].forEach(function (offset, i) {
        const osc = audio.createOscillator();
        const gain = audio.createGain();
        osc.type = 'sine';
        osc.frequency.value = i === 0 ? 880 : 660;
        gain.gain.setValueAtTime(0.0001, now + offset);
        gain.gain.exponentialRampToValueAtTime(0.25, now + offset + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, now + offset + 0.2);
        osc.connect(gain).connect(audio.destination);
        osc.start(now + offset);
        osc.stop(now + offset + 0.22);
      });
      window.cvSoundsPlayed = (window.cvSoundsPlayed || 0) + 1;
    } catch (e) { /* no audio device: the alert is still on screen */ }
  }

  return {
    alertArrived: function (title, body, url) {
      beep();
      window.cvLastAlert = { title: title, body: body };
      if ('Notification' in window && Notification.permission === 'granted') {
        try {
          const n = new Notification(title, { body: body, tag: url, icon: '/img/logo.svg' });
          n.onclick = function () { window.focus(); location.href = url; };
        } catch (e) { /* notifications not available in this context */ }
      }
    },
    notificationPermission: function () {
      return 'Notification' in window ? Notification.permission : 'unsupported';
    },
    requestNotifications: async function () {
      if (!('Notification' in window)) return 'unsupported';
      return await Notification.requestPermission();
    },
    download: async function (fileName, contentType, streamReference) {
      const buffer = await streamReference.arrayBuffer();
      const url = URL.createObjectURL(new Blob([buffer], { type: contentType }));
      const a = document.createElement('a');
      a.href = url;
      a.download = fileName;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
    },
    postForm: function (url) {
      const form = document.createElement('form');
      form.method = 'post';
      form.action = url;
      document.body.appendChild(form);
      form.submit();
    },
    sendJson: async function (method, url, body) {
      const response = await fetch(url, {
        method: method, credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
        body: JSON.stringify(body)
      });
      return { status: response.status, body: await response.text() };
    },
    // Seat-map editor: pointer positions in the SVG's own coordinates (the reference frame's pixels).
    svgPoint: function (svg, clientX, clientY) {
      const pt = svg.createSVGPoint();
      pt.x = clientX; pt.y = clientY;
      const p = pt.matrixTransform(svg.getScreenCTM().inverse());
      return [p.x, p.y];
    },
    editor: {
      attach: function (svg, dotnet) {
        let drag = null;
        svg.addEventListener('pointerdown', function (e) {
          const handle = e.target.closest('[data-drag]');
          if (!handle) return;
          e.preventDefault();
          const p = window.cv.svgPoint(svg, e.clientX, e.clientY);
          drag = { kind: handle.getAttribute('data-drag'), start: p, last: p, moved: false };
          svg.setPointerCapture(e.pointerId);
        });
        svg.addEventListener('pointermove', function (e) {
          if (!drag) return;
          const p = window.cv.svgPoint(svg, e.clientX, e.clientY);
          drag.moved = drag.moved || Math.abs(p[0] - drag.start[0]) + Math.abs(p[1] - drag.start[1]) > 1;
          const now = performance.now();
          if (drag.moved && (!drag.sent || now - drag.sent > 40)) {
            drag.sent = now;
            dotnet.invokeMethodAsync('OnDragMove', drag.kind, drag.start[0], drag.start[1], p[0], p[1]);
          }
          drag.last = p;
        });
        const finish = function (e) {
          if (!drag) return;
          const d = drag; drag = null;
          try { svg.releasePointerCapture(e.pointerId); } catch (err) { /* already released */ }
          if (d.moved) dotnet.invokeMethodAsync('OnDragEnd', d.kind, d.start[0], d.start[1], d.last[0], d.last[1]);
        };
        svg.addEventListener('pointerup', finish);
        svg.addEventListener('pointercancel', finish);
      }
    }
  };
})();
