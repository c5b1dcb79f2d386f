#!/usr/bin/perl
# A Perl Gearman::Worker for the interop tests. Usage: perl worker.pl PORT JOBS
use strict;
use warnings;
use Gearman::Worker;

my ($port, $jobs) = @ARGV;
my $worker = Gearman::Worker->new(job_servers => ["127.0.0.1:$port"]);
$worker->register_function(reverse => sub { return scalar reverse $_[0]->arg });
$worker->register_function(upper => sub { return uc $_[0]->arg });
# Gearman::Worker sends these results as a bare handle (`$v ? join("\0", $h, $v) : $h`).
$worker->register_function(empty => sub { return '' });
$worker->register_function(zero => sub { return 0 });
my $done = 0;
$worker->work(on_complete => sub { $done++ }, stop_if => sub { $done >= $jobs });
