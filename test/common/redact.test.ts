import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redact } from '../../lib/common/redact.js';

describe('redact: every secret in a URL or connection string is hidden, the rest stays readable', () => {
  const cases: Array<[string, string, string]> = [
    ['userinfo', 'amqp://xfc:s3cret@rabbit:5672/xfc', 'amqp://xfc:***@rabbit:5672/xfc'],
    ['no password', 'postgres://postgres@127.0.0.1:5432/xfc', 'postgres://postgres@127.0.0.1:5432/xfc'],
    ['no userinfo', 'smtp://127.0.0.1:25', 'smtp://127.0.0.1:25'],
    ['raw @ in the password', 'postgres://xfc:p@ss@w0rd@db:5432/xfc', 'postgres://xfc:***@db:5432/xfc'],
    ['raw / in the password', 'amqp://xfc:pa/ss@rabbit/xfc', 'amqp://xfc:***@rabbit/xfc'],
    ['encoded @ in the password', 'postgres://xfc:p%40ss@db/xfc', 'postgres://xfc:***@db/xfc'],
    ['libpq ?password=', 'postgres://xfc@db/xfc?password=hunter2', 'postgres://xfc@db/xfc?password=***'],
    [
      'sslpassword among other parameters',
      'postgresql://db/xfc?sslmode=verify-full&sslpassword=k3y&application_name=xfc',
      'postgresql://db/xfc?sslmode=verify-full&sslpassword=***&application_name=xfc',
    ],
    ['parameter name in capitals', 'postgres://db/xfc?PASSWORD=x', 'postgres://db/xfc?PASSWORD=***'],
    ['both at once', 'postgres://a:b@db/xfc?password=c', 'postgres://a:***@db/xfc?password=***'],
    ['@ in the query only', 'postgres://db/xfc?application_name=a@b', 'postgres://db/xfc?application_name=a@b'],
    [
      'libpq keyword string',
      'host=db user=xfc password=hunter2 dbname=xfc',
      'host=db user=xfc password=*** dbname=xfc',
    ],
    ['quoted keyword value', "host=db password='a b''c' dbname=xfc", 'host=db password=*** dbname=xfc'],
    ['smtps with a password', 'smtps://mailer:pw@smtp.example.org:465', 'smtps://mailer:***@smtp.example.org:465'],
  ];
  for (const [what, input, expected] of cases) {
    it(what, () => {
      const shown = redact(input);
      assert.equal(shown, expected);
      for (const secret of ['s3cret', 'hunter2', 'p@ss', 'w0rd', 'k3y', 'pa/ss', "b''c"]) {
        if (input.includes(secret)) assert.ok(!shown.includes(secret), `${secret} is hidden in ${shown}`);
      }
    });
  }
});
