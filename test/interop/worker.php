<?php
// A PHP GearmanWorker (Debian's php-gearman) for the interop tests.
// Usage: php worker.php PORT [JOBS]
$port = (int) $argv[1];
$jobs = (int) ($argv[2] ?? 1000);
$worker = new GearmanWorker();
$worker->addServer('127.0.0.1', $port);
$worker->addFunction('reverse', fn ($job) => strrev($job->workload()));
$worker->addFunction('progress', function ($job) {
    for ($i = 1; $i <= 3; $i++) {
        usleep(200000);
        $job->sendStatus($i, 3);
    }
    return 'encoded';
});
$worker->addFunction('chunks', function ($job) {
    $job->sendData('a');
    $job->sendData('b');
    $job->sendWarning('careful');
    $job->sendStatus(1, 2);
    return 'c';
});
$worker->addFunction('fail', function ($job) {
    $job->sendFail();
});
$worker->addFunction('exception', function ($job) {
    $job->sendException('disk full');
});
// Fails the first two attempts of each workload, then succeeds (a flaky payment call).
$attempts = [];
$worker->addFunction('flaky', function ($job) use (&$attempts) {
    $n = $attempts[$job->workload()] = ($attempts[$job->workload()] ?? 0) + 1;
    if ($n < 3) {
        $job->sendFail();
        return;
    }
    return "paid after $n";
});
$worker->addFunction('length', fn ($job) => strlen($job->workload()) . ':' . md5($job->workload()));
for ($i = 0; $i < $jobs; $i++) {
    if (!$worker->work()) {
        fwrite(STDERR, 'worker: ' . $worker->error() . "\n");
        exit(1);
    }
}
