/** The mail transport's contract, held against the in-memory sender. */
import { InMemoryEmailSender } from '../../src/adapters/in-memory/email-sender.js';
import { emailSenderContract } from './email-sender.contract.js';

const SENDER = 'DoNotReply@contoso-alerts.example.net';
const sender = new InMemoryEmailSender({ senderAddress: SENDER });

emailSenderContract({
  name: 'in-memory sender',
  senderAddress: SENDER,
  transport: () => sender,
  messages: () => sender.messages,
  sendAttempts: () => sender.sendAttempts,
  throttleNextSend: (retryAfterSeconds) => sender.faults.add({ kind: 'throttle', retryAfterSeconds }),
  refuseNextSend: (status, code) => sender.faults.add({ kind: 'refuse', status, code }),
  failNextDelivery: () => sender.faults.add({ kind: 'fail-delivery' }),
  reset: () => sender.reset(),
});
