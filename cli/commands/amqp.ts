import { notYet } from './not-yet.js';

export const amqpCommand = notYet('amqp', 'TODO');
