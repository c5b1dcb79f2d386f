<?php
// A PHP GearmanClient (Debian's php-gearman) for the interop tests; prints JSON.
// Usage: php client.php PORT SCENARIO
$port = (int) $argv[1];
$scenario = $argv[2];
$client = new GearmanClient();
$client->addServer('127.0.0.1', $port);
$out = [];

switch ($scenario) {
    case 'background-status':
        // Submit in the background, then poll jobStatus until the job is gone.
        $handle = $client->doBackground('progress', 'video.mp4');
        $out['created'] = $client->returnCode() === GEARMAN_SUCCESS && $handle !== '';
        $seen = [];
        for ($i = 0; $i < 200; $i++) {
            $status = $client->jobStatus($handle);
            $seen[] = $status;
            if (!$status[0]) break;
            usleep(50000);
        }
        $out['statuses'] = $seen;
        break;
    case 'flaky-status':
        // A background job whose first attempts fail: polled until it is gone.
        $handle = $client->doBackground('flaky', 'order-1');
        $seen = [];
        for ($i = 0; $i < 400; $i++) {
            $status = $client->jobStatus($handle);
            $seen[] = $status;
            if (!$status[0]) break;
            usleep(20000);
        }
        $out = ['handle' => $handle, 'statuses' => $seen];
        break;
    case 'unique':
        $a = $client->doBackground('queued-only', 'first', 'same-unique');
        $b = $client->doBackground('queued-only', 'second', 'same-unique');
        $c = $client->doBackground('queued-only', 'third', 'other-unique');
        $out = ['same' => $a === $b, 'other' => $a !== $c, 'status' => $client->jobStatusByUniqueKey('same-unique')];
        break;
    case 'do':
        $out = [
            'normal' => $client->doNormal('reverse', 'abc'),
            'high' => $client->doHigh('reverse', 'def'),
            'low' => $client->doLow('reverse', 'ghi'),
            'binary' => bin2hex($client->doNormal('reverse', "a\0b\0\xff")),
        ];
        break;
    case 'tasks':
        $events = [];
        $client->setCompleteCallback(function ($task) use (&$events) { $events[] = ['complete', $task->unique(), $task->data()]; });
        $client->setDataCallback(function ($task) use (&$events) { $events[] = ['data', $task->unique(), $task->data()]; });
        $client->setWarningCallback(function ($task) use (&$events) { $events[] = ['warning', $task->unique(), $task->data()]; });
        $client->setStatusCallback(function ($task) use (&$events) { $events[] = ['status', $task->unique(), $task->taskNumerator(), $task->taskDenominator()]; });
        $client->setFailCallback(function ($task) use (&$events) { $events[] = ['fail', $task->unique()]; });
        $client->setExceptionCallback(function ($task) use (&$events) { $events[] = ['exception', $task->unique(), $task->data()]; });
        $client->addTask('chunks', 'x', null, 't-chunks');
        $client->addTask('reverse', 'olleh', null, 't-reverse');
        $client->addTask('fail', 'x', null, 't-fail');
        $client->addTask('exception', 'x', null, 't-exception');
        $ok = $client->runTasks();
        $out = ['ok' => $ok, 'events' => $events];
        break;
    case 'failing':
        $result = $client->doNormal('fail', 'x');
        $out = ['result' => $result, 'code' => $client->returnCode(), 'workFail' => $client->returnCode() === GEARMAN_WORK_FAIL];
        $client->doNormal('exception', 'x');
        $out['exceptionCode'] = $client->returnCode() === GEARMAN_WORK_EXCEPTION;
        break;
    case 'large':
        foreach ([1, 8] as $mib) {
            $payload = str_repeat(substr(md5((string) $mib), 0, 16), $mib * 65536);
            $out["{$mib}MiB"] = $client->doNormal('length', $payload) === strlen($payload) . ':' . md5($payload);
        }
        break;
    case 'normal-updates':
        // Foreground jobs as PHP sends them: doNormal (libgearman gathers the job's data into
        // its result), and tasks whose callbacks see each status, data and warning (by task:
        // the two run in either order).
        $events = ['progress' => [], 'chunks' => []];
        $client->setStatusCallback(function ($task) use (&$events) { $events[$task->functionName()][] = ['status', $task->taskNumerator(), $task->taskDenominator()]; });
        $client->setDataCallback(function ($task) use (&$events) { $events[$task->functionName()][] = ['data', $task->data()]; });
        $client->setWarningCallback(function ($task) use (&$events) { $events[$task->functionName()][] = ['warning', $task->data()]; });
        $client->setCompleteCallback(function ($task) use (&$events) { $events[$task->functionName()][] = ['complete', $task->data()]; });
        $client->addTask('progress', 'video.mp4');
        $client->addTask('chunks', 'x');
        $ok = $client->runTasks();
        $big = str_repeat('0123456789abcdef', 65536);
        $out = [
            'tasks' => $ok ? $events : $client->error(),
            'chunks' => $client->doNormal('chunks', 'x'),
            'large' => $client->doNormal('reverse', $big) === strrev($big),
        ];
        break;
    default:
        fwrite(STDERR, "unknown scenario $scenario\n");
        exit(2);
}
echo json_encode($out), "\n";
