#!/usr/bin/perl
# A Perl Gearman::Client of several job servers, as Gearman's own t/02-client.t,
# t/03-worker.t and t/05-taskset.t start them; worker.pl serves all of them.
# Usage: perl several-servers.pl PORT,PORT,... JOBS
use strict;
use warnings;
use Gearman::Client;

my ($ports, $jobs) = @ARGV;
my @servers = map { "127.0.0.1:$_" } split /,/, $ports;
my $client = Gearman::Client->new(job_servers => [@servers]);

# A unique id picks the server (its CRC32, modulo the servers), so these spread over all.
my (%by, $right);
my $taskset = $client->new_task_set;
for my $i (1 .. $jobs) {
    $taskset->add_task(
        where => "job$i",
        {
            uniq        => "job$i",
            on_complete => sub {
                my ($server, $text) = split / /, ${ $_[0] };
                $by{$server}++;
                $right++ if $text eq reverse "job$i";
            },
            on_fail => sub { print "job$i failed\n" },
        },
    );
}
$taskset->wait;
print $right // 0, " of $jobs results right\n";
print 'served by ', join(' ', sort keys %by), "\n";

my $status = $client->get_job_server_status;
my $with = grep { ($status->{$_}{where}{capable} // 0) == 1 } @servers;
print "the worker on $with of ", scalar @servers, " servers\n";
