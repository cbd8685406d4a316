// A real OpenID Connect provider (the `oidc-provider` package) for the portal's tests.
//
// One confidential client whose redirect URI is the portal's allauth callback; accounts
// with `email` and `groups` claims; the package's built-in development login form, where
// the "login" field names the account (any password is accepted). Configured entirely by
// environment variables, set by the pytest fixture in tests/aims/sso/conftest.py:
//   OIDC_PORT, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI,
//   OIDC_ACCOUNTS = {"<login>": {"email": "...", "name": "...", "groups": ["..."]}, ...}
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT);
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS || '{}');
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: process.env.OIDC_CLIENT_ID,
      client_secret: process.env.OIDC_CLIENT_SECRET,
      redirect_uris: process.env.OIDC_REDIRECT_URI.split(' '),
      response_types: ['code'],
      grant_types: ['authorization_code'],
    },
  ],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          email: account.email,
          email_verified: true,
          name: account.name || id,
          groups: account.groups || [],
        };
      },
    };
  },
  features: { devInteractions: { enabled: true } },
  // Fixed keys: the provider is rebuilt for every test session and holds nothing worth keeping.
  cookies: { keys: ['aims-test-oidc-provider-cookie-key'] },
});

provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
