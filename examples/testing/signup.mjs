// The code under test: a sign-up that submits jobs, and the handler of one of them.
import { WorkFail } from '@geartrain/core';

/**
 * Signs a user up: the welcome mail goes out in the background (once per user, whatever
 * the retries of the HTTP request), and the avatar is resized in the foreground at high
 * priority because the page shows it.
 */
export async function signUp(client, user) {
  await client.submit('send-welcome-mail', JSON.stringify({ email: user.email }), {
    background: true,
    unique: `welcome-${user.id}`,
  });
  try {
    const avatar = await client.run('resize-avatar', user.avatar, { priority: 'high' });
    return { ok: true, avatar: avatar.toString() };
  } catch {
    return { ok: true, avatar: 'default.png' }; // a broken image does not stop a sign-up
  }
}

/** The mail handler: reports progress per step, refuses bad addresses, honours its signal. */
export async function sendWelcomeMail(job, mailer) {
  const { email } = job.json();
  if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw new WorkFail(`bad address ${email}`);
  const steps = ['render', 'send'];
  for (const [i, step] of steps.entries()) {
    if (job.signal.aborted) throw new WorkFail('stopped');
    await mailer[step](email);
    job.status(i + 1, steps.length);
  }
  return `sent to ${email}`;
}
