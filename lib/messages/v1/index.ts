export * from './scan-report.js';
export * from './messages.js';
