// Social login on the Torii example page: "Sign in with ..." links for the configured providers, and,
// once logged in, the linked providers with "Unlink" buttons and "Link ..." links for the others.
// Loaded after app.js and uses its helpers ($, api, run, showMessage, errorText, formatTime).
//
// Signing in and linking are plain navigations to /auth/oauth/{provider}/start: the server sends the
// browser to the provider and, from its callback, back here. When that fails, the callback comes back
// with ?oauth_error=<code>, a fixed code that this script turns into a sentence.
'use strict';

/** Display names for the well-known providers; any other name is shown as configured. */
const PROVIDER_LABELS = { google: 'Google', github: 'GitHub' };
const providerLabel = (name) => PROVIDER_LABELS[name] ?? name;

/** What each callback failure means for the person in front of the page. */
const OAUTH_ERRORS = {
  oauth_denied: 'The sign-in was cancelled at the provider.',
  oauth_invalid_state: 'That sign-in attempt expired or was already used. Please start again.',
  oauth_email_in_use:
    'An account with this email address already exists. Log in to it, then link the provider below.',
  oauth_identity_in_use: 'That provider account is already linked to another user.',
  oauth_provider_already_linked: 'Another account at that provider is already linked to yours.',
  oauth_link_requires_login: 'Log in to the account you want to link first.',
  oauth_missing_email: 'The provider did not share an email address, which a new account needs.',
  oauth_provider_unavailable: 'The provider could not be reached. Please try again later.',
};

let oauthProviders = [];

/** A link that starts a flow; `link` attaches the provider to the logged-in user instead. */
function startLink(provider, text, link) {
  const anchor = document.createElement('a');
  const query = new URLSearchParams({ next: '/' });
  if (link) query.set('link', 'true');
  anchor.href = `/auth/oauth/${encodeURIComponent(provider)}/start?${query}`;
  anchor.className = 'button secondary';
  anchor.textContent = text;
  anchor.dataset.testid = `oauth-${link ? 'link' : 'login'}-${provider}`;
  if (link) {
    // Linking adds a way into the account, so the server wants a recent login: confirm first, then go.
    anchor.addEventListener('click', (event) => {
      event.preventDefault();
      run(async () => {
        if (await ensureRecentLogin()) window.location.assign(anchor.href);
      });
    });
  }
  return anchor;
}

async function loadProviders() {
  const result = await api('GET', '/oauth/providers');
  oauthProviders = result.ok ? result.data.providers : [];
  const login = $('oauth-login');
  login.replaceChildren(...oauthProviders.map((p) => startLink(p, `Sign in with ${providerLabel(p)}`, false)));
  login.hidden = oauthProviders.length === 0;
}

function accountItem(account) {
  const item = document.createElement('li');
  item.dataset.testid = 'oauth-account';
  item.dataset.provider = account.provider;
  const email = account.email ? ` as ${account.email}` : '';
  item.textContent = `${providerLabel(account.provider)}${email}, linked ${formatTime(account.linked_at)} `;
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'secondary';
  button.textContent = 'Unlink';
  button.dataset.testid = 'oauth-unlink-button';
  button.addEventListener('click', () => run(() => unlink(account.provider)));
  item.append(button);
  return item;
}

async function loadAccounts() {
  const section = $('oauth-accounts-section');
  const result = await api('GET', '/oauth/accounts');
  if (!result.ok || result.data.providers.length === 0) {
    section.hidden = true;
    return;
  }
  const { accounts, providers } = result.data;
  const linked = new Set(accounts.map((a) => a.provider));
  $('oauth-accounts').replaceChildren(...accounts.map(accountItem));
  $('oauth-link').replaceChildren(
    ...providers.filter((p) => !linked.has(p)).map((p) => startLink(p, `Link ${providerLabel(p)}`, true)),
  );
  section.hidden = false;
}

async function unlink(provider) {
  const result = await api('DELETE', `/oauth/accounts/${encodeURIComponent(provider)}`);
  if (!result.ok) showMessage(errorText(result));
  else showMessage(`${providerLabel(provider)} is no longer linked.`, 'info');
  await loadAccounts();
}

/** Explains a failed callback once, then drops the code from the address bar. */
function showCallbackError() {
  const url = new URL(window.location.href);
  const code = url.searchParams.get('oauth_error');
  if (code === null) return;
  showMessage(OAUTH_ERRORS[code] ?? 'Signing in with the provider did not work. Please try again.');
  url.searchParams.delete('oauth_error');
  window.history.replaceState(null, '', url);
}

// app.js marks the login state on #status; follow it, so the lists are current after any login.
new MutationObserver(() => {
  if ($('status').dataset.state === 'logged-in') loadAccounts();
  else $('oauth-accounts-section').hidden = true;
}).observe($('status'), { attributes: true, attributeFilter: ['data-state'] });

showCallbackError();
loadProviders();
