// Verifies one webhook delivery with stripe-node's own webhooks.constructEvent, as a receiver would.
// Input, as JSON on stdin: {"body": "...", "signature": "t=...,v1=...", "secret": "whsec_..."}.
// Prints the event's id and type, or exits 1 with the error.
const Stripe = require('stripe');
let input = '';
process.stdin.on('data', (c) => { input += c; });
process.stdin.on('end', () => {
  const { body, signature, secret } = JSON.parse(input);
  try {
    const event = Stripe.webhooks.constructEvent(body, signature, secret);
    console.log(JSON.stringify({ id: event.id, type: event.type }));
  } catch (err) {
    console.error(err.message);
    process.exit(1);
  }
});
