// Email on the Torii example page: a sign-in link, a password reset link, a new verification link, and
// changing the password. Loaded after app.js and uses its helpers ($, api, run, showMessage, ...).
//
// Requests that take an address get the same answer whether or not an account uses it, so the page
// says "if an account uses this address" rather than claiming a message was sent. The links in the
// messages open pages served by the auth routes; their button finishes the job.
'use strict';

/** The address typed in the login form, or null (after saying so) when it is empty. */
function typedEmail() {
  const email = $('email').value.trim();
  if (email === '') {
    showMessage('Type your email address first.');
    $('email').focus();
    return null;
  }
  return email;
}

/** Asks for a link by mail: `path` is /magic-link or /password/forgot. */
async function requestLink(path) {
  const email = typedEmail();
  if (email === null) return;
  const result = await api('POST', path, { email });
  if (!result.ok) {
    showMessage(errorText(result));
    return;
  }
  showMessage(`${result.data.message} (In development, the link is in the server's log.)`, 'info');
}

async function resendVerification() {
  const result = await api('POST', '/verify-email/resend');
  if (!result.ok) {
    showMessage(errorText(result));
    return;
  }
  showMessage('A new confirmation link is on its way. (In development, it is in the server\'s log.)', 'info');
}

async function changePassword() {
  const current = $('current-password');
  const next = $('new-password');
  const result = await api('POST', '/password/change', {
    current_password: current.value,
    new_password: next.value,
  });
  if (!result.ok) {
    showMessage(errorText(result));
    return;
  }
  current.value = '';
  next.value = '';
  const n = result.data.revoked;
  showMessage(`Password changed. ${n} other session${n === 1 ? ' was' : 's were'} logged out.`, 'info');
  await loadSessions();
}

/** Shows whether the logged-in user's address is confirmed, with the resend button when it is not. */
async function showVerification() {
  const result = await api('GET', '/user');
  if (!result.ok) return;
  const verified = Boolean(result.data.user.email_verified_at);
  $('user-verified').textContent = verified ? `Yes, ${formatTime(result.data.user.email_verified_at)}` : 'Not yet';
  $('user-verified').dataset.verified = String(verified);
  $('email-unverified').hidden = verified;
}

$('magic-link').addEventListener('click', () => run(() => requestLink('/magic-link')));
$('forgot-password').addEventListener('click', () => run(() => requestLink('/password/forgot')));
$('resend-verification').addEventListener('click', () => run(resendVerification));
$('change-password').addEventListener('submit', (event) => {
  event.preventDefault();
  run(changePassword);
});

// app.js marks the login state on #status; follow it to keep the confirmation status current.
new MutationObserver(() => {
  if ($('status').dataset.state === 'logged-in') {
    showVerification();
  } else {
    $('user-verified').textContent = '';
    $('email-unverified').hidden = true;
  }
}).observe($('status'), { attributes: true, attributeFilter: ['data-state'] });
