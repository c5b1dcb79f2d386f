<?php
// A PHP worker, unchanged from what it would be against gearmand.
// Usage: php worker.php PORT JOBS
$worker = new GearmanWorker();
$worker->addServer('127.0.0.1', (int) $argv[1]);
$worker->setId('php-worker');
$worker->addFunction('reverse', fn (GearmanJob $job) => strrev($job->workload()));
$worker->addFunction('resize', function (GearmanJob $job) {
    for ($step = 1; $step <= 4; $step++) {
        usleep(100000);
        $job->sendStatus($step, 4);
    }
    return 'resized ' . $job->workload();
});
for ($i = 0; $i < (int) $argv[2]; $i++) {
    if (!$worker->work()) {
        fwrite(STDERR, 'worker: ' . $worker->error() . "\n");
        exit(1);
    }
}
