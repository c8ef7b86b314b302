// The original DIVE V3 backend's rate-limited endpoint, as one of its Node backends ran it: express, the api limiter
// (express-rate-limit, 15 min window, Redis store through ioredis, prefix dive-v3:rate-limit:api:) and
// GET /api/resources answering a JSON listing. ./dive bench measures it next to ROU's full path (HeadlineBenchmarks).
// What it omits on purpose (the original's endpoint had none of it): JWT validation, a revocation check, ACP-240.
//
//   node server.js LISTING.json      environment: PORT, REDIS_PORT, REDIS_PASSWORD, RATE_LIMIT_MAX
// Prints "listening PORT" once Redis answers and the port is open.
'use strict';
const fs = require('node:fs');
const express = require('express');
const { rateLimit } = require('express-rate-limit');
const { RedisStore } = require('rate-limit-redis');
const { Redis } = require('ioredis');

const listing = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const redis = new Redis({ host: '127.0.0.1', port: Number(process.env.REDIS_PORT), password: process.env.REDIS_PASSWORD });

const apiLimiter = rateLimit({
  windowMs: 15 * 60 * 1000,
  limit: Number(process.env.RATE_LIMIT_MAX || 100),
  standardHeaders: true,
  legacyHeaders: false,
  store: new RedisStore({ sendCommand: (command, ...args) => redis.call(command, ...args), prefix: 'dive-v3:rate-limit:api:' }),
  handler: (req, res, next, options) => res.status(429).json({
    error: 'Too Many Requests',
    message: 'Too many requests, please try again later.',
    details: { retryAfter: Math.ceil(options.windowMs / 1000), limit: options.limit, remaining: 0 },
  }),
});

const app = express();
app.disable('x-powered-by');
app.get('/api/resources', apiLimiter, (req, res) => res.json(listing));

redis.ping().then(() => {
  const server = app.listen(Number(process.env.PORT), '127.0.0.1', () => console.log(`listening ${server.address().port}`));
}, (error) => {
  console.error(`redis: ${error.message}`);
  process.exit(1);
});
