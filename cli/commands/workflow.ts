import { notYet } from './not-yet.js';

export const workflowCommand = notYet('workflow', 'TODO');
