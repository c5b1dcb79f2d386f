#!/usr/bin/perl
# A Perl Gearman::Worker for the interop tests, of one server or several (PORT,PORT,...).
# Usage: perl worker.pl PORTS JOBS
use strict;
use warnings;
use Gearman::Worker;

my ($ports, $jobs) = @ARGV;
my $worker = Gearman::Worker->new(job_servers => [map { "127.0.0.1:$_" } split /,/, $ports]);
$worker->register_function(reverse => sub { return scalar reverse $_[0]->arg });
$worker->register_function(upper => sub { return uc $_[0]->arg });
# Which server handed the job: the handle's prefix (geartrain serve --job-handle-prefix).
$worker->register_function(where => sub { return (split /:/, $_[0]->handle)[0] . ' ' . reverse $_[0]->arg });
# Gearman::Worker sends these results as a bare handle (`$v ? join("\0", $h, $v) : $h`).
$worker->register_function(empty => sub { return '' });
$worker->register_function(zero => sub { return 0 });
my $done = 0;
$worker->work(on_complete => sub { $done++ }, stop_if => sub { $done >= $jobs });
