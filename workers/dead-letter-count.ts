import type { Channel, ChannelModel } from 'amqplib';
import { closeQuietly, connectAmqp } from '../lib/amqp/connection.js';
import { deadQueue } from '../lib/amqp/topology.js';

/**
 * Counts the messages in xfc.dead for the xfc_dead_letters gauge: a passive queue check on a connection of its own
 * (opened on first use, opened again after it drops), so the gauge never touches the publisher's confirm channel.
 */
export class DeadLetterCounter {
  private connection: ChannelModel | undefined;
  private channel: Channel | undefined;

  constructor(private readonly amqpUrl: string) {}

  async count(): Promise<number> {
    try {
      if (!this.channel) {
        this.connection = await connectAmqp(this.amqpUrl, 'metrics');
        this.connection.on('error', () => undefined);
        this.connection.on('close', () => this.forget());
        this.channel = await this.connection.createChannel();
        this.channel.on('error', () => undefined);
        this.channel.on('close', () => this.forget());
      }
      return (await this.channel.checkQueue(deadQueue)).messageCount;
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  private forget(): void {
    this.channel = undefined;
    const connection = this.connection;
    this.connection = undefined;
    void closeQuietly(connection);
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.channel = undefined;
    this.connection = undefined;
    await closeQuietly(connection);
  }
}
